package validation

import (
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
	"google.golang.org/protobuf/types/known/structpb"
)

// actions is what a Probe and a LifecycleHandler share.
type actions interface {
	GetExec() *corev1.ExecAction
	GetHttpGet() *corev1.HTTPGetAction
	GetTcpSocket() *corev1.TCPSocketAction
}

// probe checks a container probe; liveness and startup probes must succeed once.
func probe(p path, pr *corev1.Probe, liveness bool) List {
	if pr == nil {
		return nil
	}
	errs := handler(p, pr, pr.GetGrpc())
	for _, f := range []struct {
		name string
		v    int32
	}{
		{"initialDelaySeconds", pr.GetInitialDelaySeconds()},
		{"timeoutSeconds", pr.GetTimeoutSeconds()},
		{"periodSeconds", pr.GetPeriodSeconds()},
		{"successThreshold", pr.GetSuccessThreshold()},
		{"failureThreshold", pr.GetFailureThreshold()},
	} {
		errs = append(errs, nonNegative(p.child(f.name), int64(f.v))...)
	}
	if liveness && pr.GetSuccessThreshold() > 1 {
		errs = append(errs, invalid(p.child("successThreshold"), pr.GetSuccessThreshold(), "must be 1"))
	}
	if pr.TerminationGracePeriodSeconds != nil {
		if !liveness {
			errs = append(errs, invalid(p.child("terminationGracePeriodSeconds"), pr.GetTerminationGracePeriodSeconds(), "must not be set for readinessProbes"))
		} else {
			errs = append(errs, optPositive(p.child("terminationGracePeriodSeconds"), pr.TerminationGracePeriodSeconds)...)
		}
	}
	return errs
}

// probePorts refuses a probe whose port is a name none of the container's
// ports has: the kubelet could never resolve it. (A number is accepted
// undeclared, as in Kubernetes: containers may listen on ports they do not
// list; the probe then fails if nothing listens.)
func probePorts(p path, c *corev1.Container) List {
	var errs List
	declared := map[string]bool{}
	for _, port := range c.GetPorts() {
		if port.GetName() != "" {
			declared[port.GetName()] = true
		}
	}
	for _, pr := range []struct {
		name string
		p    *corev1.Probe
	}{{"livenessProbe", c.GetLivenessProbe()}, {"readinessProbe", c.GetReadinessProbe()}, {"startupProbe", c.GetStartupProbe()}} {
		for action, port := range map[string]*structpb.Value{"httpGet": pr.p.GetHttpGet().GetPort(), "tcpSocket": pr.p.GetTcpSocket().GetPort()} {
			if s, ok := port.GetKind().(*structpb.Value_StringValue); ok && names.PortName(s.StringValue) == nil && !declared[s.StringValue] {
				errs = append(errs, invalid(p.child(pr.name, action, "port"), s.StringValue, "must be the name of one of the container's ports"))
			}
		}
	}
	return errs
}

// handler checks that exactly one action is given, and that action.
func handler(p path, h actions, grpc *corev1.GRPCAction) List {
	var errs List
	n := 0
	count := func(name string, set bool) {
		if !set {
			return
		}
		n++
		if n > 1 {
			errs = append(errs, forbidden(p.child(name), "may not specify more than 1 handler type"))
		}
	}
	count("exec", h.GetExec() != nil)
	count("httpGet", h.GetHttpGet() != nil)
	count("tcpSocket", h.GetTcpSocket() != nil)
	count("grpc", grpc != nil)
	if n == 0 {
		return List{required(p, "must specify a handler type")}
	}
	if e := h.GetExec(); e != nil && len(e.GetCommand()) == 0 {
		errs = append(errs, required(p.child("exec", "command"), ""))
	}
	if g := h.GetHttpGet(); g != nil {
		errs = append(errs, portNumOrName(p.child("httpGet", "port"), g.GetPort())...)
		errs = append(errs, oneOf(p.child("httpGet", "scheme"), g.GetScheme(), "HTTP", "HTTPS")...)
		for i, hd := range g.GetHttpHeaders() {
			if hd.GetName() == "" {
				errs = append(errs, required(p.child("httpGet", "httpHeaders").index(i).child("name"), ""))
			}
		}
	}
	if t := h.GetTcpSocket(); t != nil {
		errs = append(errs, portNumOrName(p.child("tcpSocket", "port"), t.GetPort())...)
	}
	if grpc != nil {
		errs = append(errs, portNumber(p.child("grpc", "port"), grpc.GetPort())...)
	}
	return errs
}
