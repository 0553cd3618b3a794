package describe

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/tugboat-sh/tugboat/cli/printer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// Pod describes a pod and its events.
func Pod(out io.Writer, p *corev1.Pod, events []*corev1.Event, now time.Time) error {
	w := newWriter(out)
	m, sp, st := p.GetMetadata(), p.GetSpec(), p.GetStatus()
	w.line(0, "Name:\t%s", m.GetName())
	w.line(0, "Namespace:\t%s", m.GetNamespace())
	w.line(0, "Priority:\t%d", sp.GetPriority())
	w.line(0, "Service Account:\t%s", orDefault(sp.GetServiceAccountName(), "default"))
	node := "<none>"
	if sp.GetNodeName() != "" {
		node = sp.GetNodeName()
		if st.GetHostIp() != "" {
			node += "/" + st.GetHostIp()
		}
	}
	w.line(0, "Node:\t%s", node)
	if st.GetStartTime() != nil {
		w.line(0, "Start Time:\t%s", when(st.GetStartTime()))
	}
	w.mapLines(0, "Labels", m.GetLabels())
	w.mapLines(0, "Annotations", m.GetAnnotations())
	if m.GetDeletionTimestamp() != nil {
		w.line(0, "Status:\tTerminating (lasts %s)", printer.Age(m.GetDeletionTimestamp(), now))
		if m.DeletionGracePeriodSeconds != nil {
			w.line(0, "Termination Grace Period:\t%ds", m.GetDeletionGracePeriodSeconds())
		}
	} else {
		w.line(0, "Status:\t%s", orDefault(st.GetPhase(), "Pending"))
	}
	if st.GetReason() != "" {
		w.line(0, "Reason:\t%s", st.GetReason())
	}
	if st.GetMessage() != "" {
		w.line(0, "Message:\t%s", st.GetMessage())
	}
	w.line(0, "IP:\t%s", st.GetPodIp())
	if len(st.GetPodIps()) == 0 {
		w.line(0, "IPs:\t<none>")
	} else {
		w.line(0, "IPs:")
		for _, ip := range st.GetPodIps() {
			w.line(1, "IP:\t%s", ip.GetIp())
		}
	}
	if len(sp.GetInitContainers()) > 0 {
		w.line(0, "Init Containers:")
		containers(w, sp.GetInitContainers(), st.GetInitContainerStatuses())
	}
	w.line(0, "Containers:")
	containers(w, sp.GetContainers(), st.GetContainerStatuses())
	if len(st.GetConditions()) > 0 {
		w.line(0, "Conditions:")
		w.line(1, "Type\tStatus")
		for _, c := range st.GetConditions() {
			w.line(1, "%s\t%s", c.GetType(), c.GetStatus())
		}
	}
	volumes(w, 0, sp.GetVolumes())
	w.line(0, "QoS Class:\t%s", orDefault(st.GetQosClass(), "BestEffort"))
	w.mapLines(0, "Node-Selectors", sp.GetNodeSelector())
	tolerations(w, 0, sp.GetTolerations())
	w.events(events, now)
	return w.flush()
}

func containers(w *writer, cs []*corev1.Container, statuses []*corev1.ContainerStatus) {
	byName := map[string]*corev1.ContainerStatus{}
	for _, s := range statuses {
		byName[s.GetName()] = s
	}
	for _, c := range cs {
		s := byName[c.GetName()]
		w.line(1, "%s:", c.GetName())
		if s.GetContainerId() != "" {
			w.line(2, "Container ID:\t%s", s.GetContainerId())
		}
		w.line(2, "Image:\t%s", c.GetImage())
		w.line(2, "Image ID:\t%s", s.GetImageId())
		switch len(c.GetPorts()) {
		case 0:
			w.line(2, "Port:\t<none>")
			w.line(2, "Host Port:\t<none>")
		default:
			p := c.GetPorts()[0]
			w.line(2, "Port:\t%d/%s", p.GetContainerPort(), orDefault(p.GetProtocol(), "TCP"))
			w.line(2, "Host Port:\t%d/%s", p.GetHostPort(), orDefault(p.GetProtocol(), "TCP"))
		}
		list(w, "Command", c.GetCommand())
		list(w, "Args", c.GetArgs())
		state(w, "State", s.GetState())
		if s.GetLastState().GetTerminated() != nil || s.GetLastState().GetWaiting() != nil {
			state(w, "Last State", s.GetLastState())
		}
		w.line(2, "Ready:\t%s", title(s.GetReady()))
		w.line(2, "Restart Count:\t%d", s.GetRestartCount())
		resources(w, "Limits", c.GetResources().GetLimits())
		resources(w, "Requests", c.GetResources().GetRequests())
		if c.GetLivenessProbe() != nil {
			w.line(2, "Liveness:\t%s", probe(c.GetLivenessProbe()))
		}
		if c.GetReadinessProbe() != nil {
			w.line(2, "Readiness:\t%s", probe(c.GetReadinessProbe()))
		}
		if len(c.GetEnv()) == 0 {
			w.line(2, "Environment:\t<none>")
		} else {
			w.line(2, "Environment:")
			for _, e := range c.GetEnv() {
				v := e.GetValue()
				if e.GetValueFrom() != nil {
					v = "<set from a reference>"
				}
				w.line(3, "%s:\t%s", e.GetName(), v)
			}
		}
		if len(c.GetVolumeMounts()) == 0 {
			w.line(2, "Mounts:\t<none>")
		} else {
			w.line(2, "Mounts:")
			for _, vm := range c.GetVolumeMounts() {
				mode := "rw"
				if vm.GetReadOnly() {
					mode = "ro"
				}
				w.line(3, "%s from %s (%s)", vm.GetMountPath(), vm.GetName(), mode)
			}
		}
	}
}

func list(w *writer, key string, items []string) {
	if len(items) == 0 {
		return
	}
	w.line(2, "%s:", key)
	for _, it := range items {
		w.line(3, "%s", it)
	}
}

func state(w *writer, key string, s *corev1.ContainerState) {
	switch {
	case s.GetRunning() != nil:
		w.line(2, "%s:\tRunning", key)
		w.line(3, "Started:\t%s", when(s.GetRunning().GetStartedAt()))
	case s.GetTerminated() != nil:
		t := s.GetTerminated()
		w.line(2, "%s:\tTerminated", key)
		w.line(3, "Reason:\t%s", t.GetReason())
		if t.GetMessage() != "" {
			w.line(3, "Message:\t%s", t.GetMessage())
		}
		w.line(3, "Exit Code:\t%d", t.GetExitCode())
		if t.GetSignal() != 0 {
			w.line(3, "Signal:\t%d", t.GetSignal())
		}
		w.line(3, "Started:\t%s", when(t.GetStartedAt()))
		w.line(3, "Finished:\t%s", when(t.GetFinishedAt()))
	case s.GetWaiting() != nil:
		w.line(2, "%s:\tWaiting", key)
		w.line(3, "Reason:\t%s", s.GetWaiting().GetReason())
		if s.GetWaiting().GetMessage() != "" {
			w.line(3, "Message:\t%s", s.GetWaiting().GetMessage())
		}
	default:
		w.line(2, "%s:\tWaiting", key)
	}
}

func resources(w *writer, key string, r map[string]string) {
	if len(r) == 0 {
		return
	}
	w.line(2, "%s:", key)
	for _, k := range sortedKeys(r) {
		w.line(3, "%s:\t%s", k, r[k])
	}
}

func probe(p *corev1.Probe) string {
	var action string
	switch {
	case p.GetHttpGet() != nil:
		h := p.GetHttpGet()
		action = fmt.Sprintf("http-get %s://%s:%s%s", lowerOr(h.GetScheme(), "http"), h.GetHost(), printer.IntOrString(h.GetPort()), h.GetPath())
	case p.GetTcpSocket() != nil:
		action = fmt.Sprintf("tcp-socket %s:%s", p.GetTcpSocket().GetHost(), printer.IntOrString(p.GetTcpSocket().GetPort()))
	case p.GetExec() != nil:
		action = fmt.Sprintf("exec %v", p.GetExec().GetCommand())
	default:
		action = "unknown"
	}
	return fmt.Sprintf("%s delay=%ds timeout=%ds period=%ds #success=%d #failure=%d", action,
		p.GetInitialDelaySeconds(), p.GetTimeoutSeconds(), p.GetPeriodSeconds(), p.GetSuccessThreshold(), p.GetFailureThreshold())
}

func volumes(w *writer, level int, vs []*corev1.Volume) {
	if len(vs) == 0 {
		w.line(level, "Volumes:\t<none>")
		return
	}
	w.line(level, "Volumes:")
	for _, v := range vs {
		w.line(level+1, "%s:", v.GetName())
		switch {
		case v.GetEmptyDir() != nil:
			w.line(level+2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)")
			w.line(level+2, "Medium:\t%s", v.GetEmptyDir().GetMedium())
		case v.GetSecret() != nil:
			w.line(level+2, "Type:\tSecret (a volume populated by a Secret)")
			w.line(level+2, "SecretName:\t%s", v.GetSecret().GetSecretName())
			w.line(level+2, "Optional:\t%t", v.GetSecret().GetOptional())
		case v.GetConfigMap() != nil:
			w.line(level+2, "Type:\tConfigMap (a volume populated by a ConfigMap)")
			w.line(level+2, "Name:\t%s", v.GetConfigMap().GetName())
			w.line(level+2, "Optional:\t%t", v.GetConfigMap().GetOptional())
		case v.GetHostPath() != nil:
			w.line(level+2, "Type:\tHostPath (bare host directory volume)")
			w.line(level+2, "Path:\t%s", v.GetHostPath().GetPath())
		}
	}
}

func tolerations(w *writer, level int, ts []*corev1.Toleration) {
	if len(ts) == 0 {
		w.line(level, "Tolerations:\t<none>")
		return
	}
	lines := make([]string, len(ts))
	for i, t := range ts {
		s := t.GetKey()
		if t.GetValue() != "" {
			s += "=" + t.GetValue()
		}
		if t.GetOperator() == "Exists" && t.GetKey() == "" {
			s = "op=Exists"
		} else if t.GetOperator() == "Exists" {
			s += ":" + t.GetEffect() + " op=Exists"
		} else if t.GetEffect() != "" {
			s += ":" + t.GetEffect()
		}
		if t.TolerationSeconds != nil {
			s += fmt.Sprintf(" for %ds", t.GetTolerationSeconds())
		}
		lines[i] = s
	}
	sort.Strings(lines)
	for i, l := range lines {
		if i == 0 {
			w.line(level, "Tolerations:\t%s", l)
		} else {
			w.line(level, "\t%s", l)
		}
	}
}

func title(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func lowerOr(s, d string) string {
	if s == "" {
		return d
	}
	return map[string]string{"HTTP": "http", "HTTPS": "https"}[s]
}
