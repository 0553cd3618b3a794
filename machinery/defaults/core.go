package defaults

import corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"

// secret sets the type and merges the write-only stringData into data, its
// values winning, as the Kubernetes API does on every write.
func secret(s *corev1.Secret) {
	setString(&s.Type, "Opaque")
	if len(s.StringData) == 0 {
		return
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

// namespace marks a new namespace Active with the "kubernetes" finalizer. A
// namespace that already has a phase is left alone, so that the finalizer is
// not put back once the namespace controller has removed it.
func namespace(ns *corev1.Namespace) {
	if ns.GetStatus().GetPhase() != "" {
		return
	}
	if ns.Status == nil {
		ns.Status = &corev1.NamespaceStatus{}
	}
	ns.Status.Phase = "Active"
	if ns.Spec == nil {
		ns.Spec = &corev1.NamespaceSpec{}
	}
	for _, f := range ns.Spec.Finalizers {
		if f == "kubernetes" {
			return
		}
	}
	ns.Spec.Finalizers = append(ns.Spec.Finalizers, "kubernetes")
}

// node sets allocatable to capacity when the kubelet reports only capacity.
func node(n *corev1.Node) {
	st := n.GetStatus()
	if st == nil || len(st.Allocatable) > 0 || len(st.Capacity) == 0 {
		return
	}
	st.Allocatable = make(map[string]string, len(st.Capacity))
	for k, v := range st.Capacity {
		st.Allocatable[k] = v
	}
}
