package command

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// exposeOptions are tug expose's flags.
type exposeOptions struct {
	port, targetPort, name, typ, protocol string
	selector, labels, clusterIP, affinity string
	file                                  string
}

// exposedPort is a port found on the exposed object.
type exposedPort struct {
	port     int32
	protocol string
}

// introspect reads what expose needs of an object, as kubectl does: the
// pod selector (a deployment's or replica set's matchLabels, a pod's
// labels, a service's selector), the object's labels and its ports (the
// containers' ports, a service's ports).
func introspect(obj proto.Message) (kind string, selector, labels map[string]string, ports []exposedPort, err error) {
	var tmpl *corev1.PodTemplateSpec
	var sel *metav1.LabelSelector
	switch o := obj.(type) {
	case *appsv1.Deployment:
		kind, labels, sel, tmpl = "deployment", o.GetMetadata().GetLabels(), o.GetSpec().GetSelector(), o.GetSpec().GetTemplate()
	case *appsv1.ReplicaSet:
		kind, labels, sel, tmpl = "replicaset", o.GetMetadata().GetLabels(), o.GetSpec().GetSelector(), o.GetSpec().GetTemplate()
	case *corev1.Pod:
		kind, labels = "pod", o.GetMetadata().GetLabels()
		if len(labels) > 0 {
			selector = labels
		}
		ports = containerPorts(o.GetSpec())
		return kind, selector, labels, ports, nil
	case *corev1.Service:
		kind, labels, selector = "service", o.GetMetadata().GetLabels(), o.GetSpec().GetSelector()
		for _, p := range o.GetSpec().GetPorts() {
			ports = append(ports, exposedPort{p.GetPort(), p.GetProtocol()})
		}
		return kind, selector, labels, ports, nil
	default:
		return "", nil, nil, nil, fmt.Errorf("cannot expose a %T", obj)
	}
	if len(sel.GetMatchExpressions()) > 0 {
		return "", nil, nil, nil, fmt.Errorf("couldn't convert expressions of the %s's selector to a map-based selector; use --selector", kind)
	}
	if len(labels) == 0 {
		labels = tmpl.GetMetadata().GetLabels()
	}
	return kind, sel.GetMatchLabels(), labels, containerPorts(tmpl.GetSpec()), nil
}

func containerPorts(spec *corev1.PodSpec) []exposedPort {
	var out []exposedPort
	for _, c := range spec.GetContainers() {
		for _, p := range c.GetPorts() {
			out = append(out, exposedPort{p.GetContainerPort(), p.GetProtocol()})
		}
	}
	return out
}

// serviceFor builds the Service tug expose creates for obj in namespace ns.
func serviceFor(obj proto.Message, name, ns string, o *exposeOptions) (*corev1.Service, error) {
	kind, selector, labels, found, err := introspect(obj)
	if err != nil {
		return nil, err
	}
	if o.selector != "" {
		if selector, err = parseMap(o.selector, "--selector"); err != nil {
			return nil, err
		}
	}
	if len(selector) == 0 {
		if kind == "pod" {
			return nil, fmt.Errorf("the pod %s has no labels and cannot be exposed; give --selector", name)
		}
		return nil, fmt.Errorf("couldn't retrieve selectors via --selector flag or introspection: the %s %s has no selector", kind, name)
	}
	if o.labels != "" {
		if labels, err = parseMap(o.labels, "--labels"); err != nil {
			return nil, err
		}
	}
	ports := found
	if o.port != "" {
		p, err := portNumber(o.port, "--port")
		if err != nil {
			return nil, err
		}
		proto := ""
		if len(found) == 1 {
			proto = found[0].protocol
		}
		ports = []exposedPort{{p, proto}}
	}
	if len(ports) == 0 {
		return nil, fmt.Errorf("couldn't find port via --port flag or introspection: the %s %s has no ports; give --port", kind, name)
	}
	typ := cmp.Or(o.typ, "ClusterIP")
	switch typ {
	case "ClusterIP", "NodePort", "LoadBalancer":
	default:
		return nil, fmt.Errorf("invalid --type %q: must be ClusterIP, NodePort or LoadBalancer", o.typ)
	}
	if o.protocol != "" {
		switch o.protocol {
		case "TCP", "UDP", "SCTP":
		default:
			return nil, fmt.Errorf("invalid --protocol %q: must be TCP, UDP or SCTP", o.protocol)
		}
	}
	var target *structpb.Value
	if o.targetPort != "" {
		if n, err := strconv.Atoi(o.targetPort); err == nil {
			if n < 1 || n > 65535 {
				return nil, fmt.Errorf("invalid --target-port %q: must be between 1 and 65535, or a port name", o.targetPort)
			}
			target = structpb.NewNumberValue(float64(n))
		} else {
			target = structpb.NewStringValue(o.targetPort)
		}
	}
	svc := &corev1.Service{
		ApiVersion: "v1", Kind: "Service",
		Metadata: &metav1.ObjectMeta{Name: cmp.Or(o.name, name), Namespace: ns, Labels: labels},
		Spec:     &corev1.ServiceSpec{Type: typ, Selector: selector, ClusterIp: o.clusterIP, SessionAffinity: o.affinity},
	}
	for i, p := range ports {
		sp := &corev1.ServicePort{Port: p.port, Protocol: cmp.Or(o.protocol, p.protocol, "TCP"), TargetPort: target}
		if target == nil {
			sp.TargetPort = structpb.NewNumberValue(float64(p.port))
		}
		if len(ports) > 1 {
			sp.Name = fmt.Sprintf("port-%d", i+1)
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	return svc, nil
}

func portNumber(s, flag string) (int32, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("invalid %s %q: must be a number between 1 and 65535", flag, s)
	}
	return int32(n), nil
}

// parseMap reads k=v,k=v.
func parseMap(s, flag string) (map[string]string, error) {
	out := map[string]string{}
	for kv := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" || strings.ContainsAny(k, "!()") {
			return nil, fmt.Errorf("invalid %s %q: must be k=v,k=v", flag, s)
		}
		out[k] = v
	}
	return out, nil
}
