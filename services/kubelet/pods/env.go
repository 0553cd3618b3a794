package pods

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/quantity"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// envName is what envFrom keys must look like to become variables.
var envName = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

// envs resolves the container's environment: envFrom (config maps and
// secrets, with a prefix) first, then env (values with $(VAR) references,
// pod fields, resources, config map and secret keys), later names winning,
// then the Service variables (serviceEnv) the container does not define
// itself. $(VAR) in env values may name Service variables too.
// A missing config map, secret or key that is not optional is an error
// (the container waits with CreateContainerConfigError until it appears).
func (m *Manager) envs(pod *corev1.Pod, c *corev1.Container, podIP string) ([]*runtimeapi.KeyValue, error) {
	ns := pod.GetMetadata().GetNamespace()
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, ef := range c.GetEnvFrom() {
		var data map[string]string
		switch {
		case ef.GetConfigMapRef() != nil:
			ref := ef.GetConfigMapRef()
			cm, ok := m.src.ConfigMap(ns, ref.GetName())
			if !ok {
				if ref.GetOptional() {
					continue
				}
				return nil, fmt.Errorf("configmap %q not found", ref.GetName())
			}
			data = cm.GetData()
		case ef.GetSecretRef() != nil:
			ref := ef.GetSecretRef()
			s, ok := m.src.Secret(ns, ref.GetName())
			if !ok {
				if ref.GetOptional() {
					continue
				}
				return nil, fmt.Errorf("secret %q not found", ref.GetName())
			}
			data = map[string]string{}
			for k, v := range s.GetData() {
				data[k] = string(v)
			}
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if name := ef.GetPrefix() + k; envName.MatchString(name) {
				set(name, data[k])
			}
		}
	}
	svc := m.serviceEnv(pod)
	svcVals := make(map[string]string, len(svc))
	for _, e := range svc {
		svcVals[e.name] = e.value
	}
	lookup := func(name string) (string, bool) {
		if v, ok := vals[name]; ok {
			return v, true
		}
		v, ok := svcVals[name]
		return v, ok
	}
	for _, e := range c.GetEnv() {
		v, ok, err := m.envValue(pod, c, e, podIP, lookup)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.GetName(), err)
		}
		if ok {
			set(e.GetName(), v)
		}
	}
	out := make([]*runtimeapi.KeyValue, 0, len(order)+len(svc))
	for _, k := range order {
		out = append(out, &runtimeapi.KeyValue{Key: k, Value: []byte(vals[k])})
	}
	for _, e := range svc {
		if _, ok := vals[e.name]; !ok {
			out = append(out, &runtimeapi.KeyValue{Key: e.name, Value: []byte(e.value)})
		}
	}
	return out, nil
}

// serviceEnv is the Service variables of the pod (enableServiceLinks
// unset means true); none without a Service lister.
func (m *Manager) serviceEnv(pod *corev1.Pod) []envVar {
	if m.svcs == nil {
		return nil
	}
	ns := pod.GetMetadata().GetNamespace()
	links := pod.GetSpec().EnableServiceLinks == nil || pod.GetSpec().GetEnableServiceLinks()
	return serviceEnv(ns, links, m.svcs.ServicesFor(ns))
}

// envValue is one env entry's value; false when an optional source is
// missing (the variable is left out).
func (m *Manager) envValue(pod *corev1.Pod, c *corev1.Container, e *corev1.EnvVar, podIP string, defined func(string) (string, bool)) (string, bool, error) {
	ns := pod.GetMetadata().GetNamespace()
	src := e.GetValueFrom()
	switch {
	case src == nil:
		return expand(e.GetValue(), defined), true, nil
	case src.GetFieldRef() != nil:
		v, err := m.fieldRef(pod, src.GetFieldRef().GetFieldPath(), podIP)
		return v, err == nil, err
	case src.GetResourceFieldRef() != nil:
		v, err := m.resourceRef(pod, c, src.GetResourceFieldRef())
		return v, err == nil, err
	case src.GetSecretKeyRef() != nil:
		ref := src.GetSecretKeyRef()
		s, ok := m.src.Secret(ns, ref.GetName())
		if !ok {
			if ref.GetOptional() {
				return "", false, nil
			}
			return "", false, fmt.Errorf("secret %q not found", ref.GetName())
		}
		v, ok := s.GetData()[ref.GetKey()]
		if !ok {
			if ref.GetOptional() {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.GetKey(), ns, ref.GetName())
		}
		return string(v), true, nil
	case src.GetConfigMapKeyRef() != nil:
		ref := src.GetConfigMapKeyRef()
		cm, ok := m.src.ConfigMap(ns, ref.GetName())
		if !ok {
			if ref.GetOptional() {
				return "", false, nil
			}
			return "", false, fmt.Errorf("configmap %q not found", ref.GetName())
		}
		v, ok := cm.GetData()[ref.GetKey()]
		if !ok {
			if ref.GetOptional() {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.GetKey(), ns, ref.GetName())
		}
		return v, true, nil
	}
	return "", false, fmt.Errorf("valueFrom names no source")
}

// fieldRef reads the pod fields the downward API offers.
func (m *Manager) fieldRef(pod *corev1.Pod, path, podIP string) (string, error) {
	md := pod.GetMetadata()
	switch path {
	case "metadata.name":
		return md.GetName(), nil
	case "metadata.namespace":
		return md.GetNamespace(), nil
	case "metadata.uid":
		return md.GetUid(), nil
	case "spec.nodeName":
		return pod.GetSpec().GetNodeName(), nil
	case "spec.serviceAccountName":
		return pod.GetSpec().GetServiceAccountName(), nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	case "status.hostIP", "status.hostIPs":
		return m.cfg.NodeIP, nil
	}
	for _, p := range []struct {
		prefix string
		m      map[string]string
	}{{"metadata.labels", md.GetLabels()}, {"metadata.annotations", md.GetAnnotations()}} {
		if k, ok := strings.CutPrefix(path, p.prefix+"['"); ok && strings.HasSuffix(k, "']") {
			return p.m[strings.TrimSuffix(k, "']")], nil
		}
	}
	return "", fmt.Errorf("fieldRef %q is not supported", path)
}

// resourceRef reads a container's request or limit (the node's allocatable
// when a limit is unset), in units of the divisor, rounded up.
func (m *Manager) resourceRef(pod *corev1.Pod, c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	target := c
	if n := ref.GetContainerName(); n != "" {
		target = nil
		for _, cc := range pod.GetSpec().GetContainers() {
			if cc.GetName() == n {
				target = cc
			}
		}
		if target == nil {
			return "", fmt.Errorf("resourceFieldRef names no container %q", n)
		}
	}
	kind, res, ok := strings.Cut(ref.GetResource(), ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("resourceFieldRef %q is not supported", ref.GetResource())
	}
	v := target.GetResources().GetLimits()[res]
	if kind == "requests" {
		v = target.GetResources().GetRequests()[res]
		if v == "" && res != "cpu" && res != "memory" {
			v = "0"
		}
	}
	if v == "" {
		if kind == "requests" {
			v = "0"
		} else if v = m.cfg.Allocatable[res]; v == "" {
			return "", fmt.Errorf("resourceFieldRef %q: no limit and no node allocatable", ref.GetResource())
		}
	}
	div := ref.GetDivisor()
	if div == "" {
		div = "1"
	}
	if res == "cpu" {
		n, err1 := quantity.MilliValue(v)
		d, err2 := quantity.MilliValue(div)
		if err1 != nil || err2 != nil || d == 0 {
			return "", fmt.Errorf("resourceFieldRef %q: bad quantity %q or divisor %q", ref.GetResource(), v, div)
		}
		return strconv.FormatInt((n+d-1)/d, 10), nil
	}
	n, err1 := quantity.Value(v)
	d, err2 := quantity.Value(div)
	if err1 != nil || err2 != nil || d == 0 {
		return "", fmt.Errorf("resourceFieldRef %q: bad quantity %q or divisor %q", ref.GetResource(), v, div)
	}
	return strconv.FormatInt((n+d-1)/d, 10), nil
}

// expandAll expands $(NAME) references to the container's variables in
// each of args (its command or arguments).
func expandAll(args []string, envs []*runtimeapi.KeyValue) []string {
	if len(args) == 0 {
		return args
	}
	vars := make(map[string]string, len(envs))
	for _, kv := range envs {
		vars[kv.GetKey()] = string(kv.GetValue())
	}
	lookup := func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = expand(a, lookup)
	}
	return out
}

// expand replaces $(NAME) with NAME's value when it is defined, and $$ with $.
func expand(s string, vars func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				name := s[i+2 : i+2+end]
				if v, ok := vars(name); ok {
					b.WriteString(v)
					i += 2 + end
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
