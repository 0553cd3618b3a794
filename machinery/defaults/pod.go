package defaults

import (
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
)

// defaultMode is 0644, the file mode of projected secret and config map keys.
const defaultMode = 0o644

func pod(p *corev1.Pod) {
	if p.Spec == nil {
		return
	}
	podSpec(p.Spec)
	for _, c := range append(p.Spec.GetInitContainers(), p.Spec.GetContainers()...) {
		requestsFromLimits(c)
	}
}

// template defaults the pod template of a controller.
func template(t *corev1.PodTemplateSpec) {
	if t.GetSpec() != nil {
		podSpec(t.Spec)
	}
}

func podSpec(s *corev1.PodSpec) {
	setString(&s.RestartPolicy, "Always")
	setString(&s.DnsPolicy, "ClusterFirst")
	setString(&s.SchedulerName, "default-scheduler")
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = proto.Int32(30)
	}
	if s.EnableServiceLinks == nil {
		s.EnableServiceLinks = proto.Bool(true)
	}
	for _, c := range append(s.GetInitContainers(), s.GetContainers()...) {
		container(c, s.GetHostNetwork())
	}
	for _, v := range s.GetVolumes() {
		if v.GetSecret() != nil && v.Secret.DefaultMode == nil {
			v.Secret.DefaultMode = proto.Int32(defaultMode)
		}
		if v.GetConfigMap() != nil && v.ConfigMap.DefaultMode == nil {
			v.ConfigMap.DefaultMode = proto.Int32(defaultMode)
		}
	}
}

func container(c *corev1.Container, hostNetwork bool) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = pullPolicy(c.GetImage())
	}
	setString(&c.TerminationMessagePath, "/dev/termination-log")
	setString(&c.TerminationMessagePolicy, "File")
	for _, p := range c.GetPorts() {
		setString(&p.Protocol, "TCP")
		if hostNetwork && p.HostPort == 0 {
			p.HostPort = p.ContainerPort
		}
	}
	for _, e := range c.GetEnv() {
		if f := e.GetValueFrom().GetFieldRef(); f != nil {
			setString(&f.ApiVersion, "v1")
		}
	}
	for _, pr := range []*corev1.Probe{c.GetLivenessProbe(), c.GetReadinessProbe(), c.GetStartupProbe()} {
		probe(pr)
	}
	httpGet(c.GetLifecycle().GetPostStart().GetHttpGet())
	httpGet(c.GetLifecycle().GetPreStop().GetHttpGet())
}

// pullPolicy is Always for an image tagged latest or not tagged at all,
// IfNotPresent otherwise (a digest counts as a tag).
func pullPolicy(image string) string {
	if strings.Contains(image, "@") {
		return "IfNotPresent"
	}
	name := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(name, ":")
	if i < 0 || name[i+1:] == "latest" {
		return "Always"
	}
	return "IfNotPresent"
}

func probe(p *corev1.Probe) {
	if p == nil {
		return
	}
	setInt(&p.TimeoutSeconds, 1)
	setInt(&p.PeriodSeconds, 10)
	setInt(&p.SuccessThreshold, 1)
	setInt(&p.FailureThreshold, 3)
	httpGet(p.GetHttpGet())
}

func httpGet(h *corev1.HTTPGetAction) {
	if h == nil {
		return
	}
	setString(&h.Path, "/")
	setString(&h.Scheme, "HTTP")
}

// requestsFromLimits copies each limit without a request into the requests,
// as Kubernetes does for pods (not for templates).
func requestsFromLimits(c *corev1.Container) {
	r := c.GetResources()
	if len(r.GetLimits()) == 0 {
		return
	}
	if r.Requests == nil {
		r.Requests = map[string]string{}
	}
	for k, v := range r.Limits {
		if _, ok := r.Requests[k]; !ok {
			r.Requests[k] = v
		}
	}
}

func setString(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func setInt(i *int32, v int32) {
	if *i == 0 {
		*i = v
	}
}
