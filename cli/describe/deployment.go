package describe

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tugboat-sh/tugboat/cli/printer"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/selector"
	"google.golang.org/protobuf/types/known/structpb"
)

// revisionAnnotation numbers a Deployment's and its ReplicaSets' revisions.
const revisionAnnotation = "deployment.kubernetes.io/revision"

// Deployment describes a deployment as kubectl does: its replica counts,
// strategy, pod template, conditions, its ReplicaSets (the one of its
// current revision, and the older ones that still have pods) and events.
// replicaSets are the ReplicaSets it controls.
func Deployment(out io.Writer, d *appsv1.Deployment, replicaSets []*appsv1.ReplicaSet, events []*corev1.Event, now time.Time) error {
	w := newWriter(out)
	m, sp, st := d.GetMetadata(), d.GetSpec(), d.GetStatus()
	w.line(0, "Name:\t%s", m.GetName())
	w.line(0, "Namespace:\t%s", m.GetNamespace())
	w.line(0, "CreationTimestamp:\t%s", when(m.GetCreationTimestamp()))
	w.mapLines(0, "Labels", m.GetLabels())
	w.mapLines(0, "Annotations", m.GetAnnotations())
	sel := "<none>"
	if s, err := selector.FromLabelSelector(sp.GetSelector()); err == nil && sp.GetSelector() != nil {
		sel = s.String()
	}
	w.line(0, "Selector:\t%s", sel)
	want := int32(1)
	if sp.Replicas != nil {
		want = sp.GetReplicas()
	}
	w.line(0, "Replicas:\t%d desired | %d updated | %d total | %d available | %d unavailable",
		want, st.GetUpdatedReplicas(), st.GetReplicas(), st.GetAvailableReplicas(), st.GetUnavailableReplicas())
	strategy := orDefault(sp.GetStrategy().GetType(), "RollingUpdate")
	w.line(0, "StrategyType:\t%s", strategy)
	w.line(0, "MinReadySeconds:\t%d", sp.GetMinReadySeconds())
	if strategy == "RollingUpdate" {
		ru := sp.GetStrategy().GetRollingUpdate()
		w.line(0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge", orQuarter(ru.GetMaxUnavailable()), orQuarter(ru.GetMaxSurge()))
	}
	podTemplate(w, sp.GetTemplate())
	if len(st.GetConditions()) > 0 {
		w.line(0, "Conditions:")
		w.line(1, "Type\tStatus\tReason")
		w.line(1, "----\t------\t------")
		for _, c := range st.GetConditions() {
			w.line(1, "%s\t%s\t%s", c.GetType(), c.GetStatus(), c.GetReason())
		}
	}
	var newRS []string
	var oldRS []string
	current := m.GetAnnotations()[revisionAnnotation]
	for _, rs := range replicaSets {
		desc := fmt.Sprintf("%s (%d/%d replicas created)", rs.GetMetadata().GetName(), rs.GetStatus().GetReplicas(), rs.GetSpec().GetReplicas())
		switch {
		case current != "" && rs.GetMetadata().GetAnnotations()[revisionAnnotation] == current:
			newRS = append(newRS, desc)
		case rs.GetSpec().GetReplicas() > 0 || rs.GetStatus().GetReplicas() > 0:
			oldRS = append(oldRS, desc)
		}
	}
	w.line(0, "OldReplicaSets:\t%s", orNone(strings.Join(oldRS, ", ")))
	w.line(0, "NewReplicaSet:\t%s", orNone(strings.Join(newRS, ", ")))
	w.events(events, now)
	return w.flush()
}

// PodTemplate describes a pod template: its labels and annotations, its
// containers, volumes, node selectors and tolerations (`rollout history
// --revision`, and the Pod Template section of a Deployment).
func PodTemplate(out io.Writer, t *corev1.PodTemplateSpec) error {
	w := newWriter(out)
	podTemplate(w, t)
	return w.flush()
}

func podTemplate(w *writer, t *corev1.PodTemplateSpec) {
	w.line(0, "Pod Template:")
	w.mapLines(1, "Labels", t.GetMetadata().GetLabels())
	if len(t.GetMetadata().GetAnnotations()) > 0 {
		w.mapLines(1, "Annotations", t.GetMetadata().GetAnnotations())
	}
	sp := t.GetSpec()
	if len(sp.GetInitContainers()) > 0 {
		w.line(1, "Init Containers:")
		templateContainers(w, sp.GetInitContainers())
	}
	w.line(1, "Containers:")
	templateContainers(w, sp.GetContainers())
	volumes(w, 1, sp.GetVolumes())
	w.mapLines(1, "Node-Selectors", sp.GetNodeSelector())
	tolerations(w, 1, sp.GetTolerations())
}

// templateContainers writes what a template says of its containers (no
// state: they do not run).
func templateContainers(w *writer, cs []*corev1.Container) {
	for _, c := range cs {
		w.line(2, "%s:", c.GetName())
		w.line(3, "Image:\t%s", c.GetImage())
		if len(c.GetPorts()) == 0 {
			w.line(3, "Port:\t<none>")
		} else {
			p := c.GetPorts()[0]
			w.line(3, "Port:\t%d/%s", p.GetContainerPort(), orDefault(p.GetProtocol(), "TCP"))
		}
		for _, l := range []struct {
			key   string
			items []string
		}{{"Command", c.GetCommand()}, {"Args", c.GetArgs()}} {
			if len(l.items) > 0 {
				w.line(3, "%s:", l.key)
				for _, it := range l.items {
					w.line(4, "%s", it)
				}
			}
		}
		if len(c.GetEnv()) == 0 {
			w.line(3, "Environment:\t<none>")
		} else {
			w.line(3, "Environment:")
			for _, e := range c.GetEnv() {
				v := e.GetValue()
				if e.GetValueFrom() != nil {
					v = "<set from a reference>"
				}
				w.line(4, "%s:\t%s", e.GetName(), v)
			}
		}
		if len(c.GetVolumeMounts()) == 0 {
			w.line(3, "Mounts:\t<none>")
		} else {
			w.line(3, "Mounts:")
			for _, vm := range c.GetVolumeMounts() {
				w.line(4, "%s from %s (%s)", vm.GetMountPath(), vm.GetName(), map[bool]string{true: "ro", false: "rw"}[vm.GetReadOnly()])
			}
		}
	}
}

// orQuarter is a maxSurge or maxUnavailable, 25% when unset.
func orQuarter(v *structpb.Value) string {
	if s := printer.IntOrString(v); s != "" {
		return s
	}
	return "25%"
}
