package validation

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
)

func TestPod(t *testing.T) {
	c0 := "spec.containers[0]"
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []fe
	}{
		{"seed pod", func(*corev1.Pod) {}, nil},
		{"full pod", func(p *corev1.Pod) {
			s := p.Spec
			s.Volumes = []*corev1.Volume{
				{Name: "conf", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "app-conf", DefaultMode: proto.Int32(0o644)}},
				{Name: "creds", Secret: &corev1.SecretVolumeSource{SecretName: "creds", Items: []*corev1.KeyToPath{{Key: "k", Path: "dir/k"}}}},
				{Name: "scratch", EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: "1Gi"}},
			}
			c := s.Containers[0]
			c.Ports[0].Name = "http"
			c.VolumeMounts = []*corev1.VolumeMount{{Name: "conf", MountPath: "/etc/app"}, {Name: "scratch", MountPath: "tmp"}}
			c.Env = []*corev1.EnvVar{
				{Name: "MODE", Value: "prod"},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "creds", Key: "token"}}},
			}
			c.Resources.Limits["nvidia.com/gpu"] = "1"
			c.Resources.Limits["hugepages-2Mi"] = "4Mi"
			c.Resources.Requests = map[string]string{"cpu": "250m"}
			c.LivenessProbe = &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Path: "/healthz", Port: str("http")}, PeriodSeconds: 5}
			c.ReadinessProbe = &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: num(9876)}}
			c.StartupProbe = &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"true"}}, SuccessThreshold: 1}
			s.InitContainers = []*corev1.Container{{Name: "init", Image: "busybox"}}
			s.RestartPolicy, s.DnsPolicy = "OnFailure", "ClusterFirst"
			s.TerminationGracePeriodSeconds = proto.Int32(0)
			s.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
			s.Tolerations = []*corev1.Toleration{
				{Key: "dedicated", Operator: "Equal", Value: "db", Effect: "NoSchedule"},
				{Operator: "Exists"},
				{Key: "node.kubernetes.io/unreachable", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: proto.Int32(300)},
			}
		}, nil},
		{"no spec", func(p *corev1.Pod) { p.Spec = nil }, []fe{{"spec", Required}}},
		{"no containers", func(p *corev1.Pod) { p.Spec.Containers = nil }, []fe{{"spec.containers", Required}}},
		{"bad container name", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "Sise_1" }, []fe{{c0 + ".name", Invalid}}},
		{"missing container name", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "" }, []fe{{c0 + ".name", Required}}},
		{"duplicate container name", func(p *corev1.Pod) { p.Spec.Containers[1].Name = "sise" }, []fe{{"spec.containers[1].name", Duplicate}}},
		{"init container shares a name", func(p *corev1.Pod) {
			p.Spec.InitContainers = []*corev1.Container{{Name: "shell", Image: "busybox"}}
		}, []fe{{"spec.containers[1].name", Duplicate}}},
		{"missing image", func(p *corev1.Pod) { p.Spec.Containers[1].Image = " " }, []fe{{"spec.containers[1].image", Required}}},
		{"bad pull policy", func(p *corev1.Pod) { p.Spec.Containers[0].ImagePullPolicy = "Sometimes" }, []fe{{c0 + ".imagePullPolicy", NotSupported}}},
		{"missing containerPort", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 }, []fe{{c0 + ".ports[0].containerPort", Required}}},
		{"containerPort too big", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 65536 }, []fe{{c0 + ".ports[0].containerPort", Invalid}}},
		{"hostPort too big", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostPort = 70000 }, []fe{{c0 + ".ports[0].hostPort", Invalid}}},
		{"bad port name and protocol", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports,
				&corev1.ContainerPort{Name: "web", ContainerPort: 80}, &corev1.ContainerPort{Name: "web", ContainerPort: 81, Protocol: "ICMP"},
				&corev1.ContainerPort{Name: "no_good", ContainerPort: 82})
		}, []fe{{c0 + ".ports[2].name", Duplicate}, {c0 + ".ports[2].protocol", NotSupported}, {c0 + ".ports[3].name", Invalid}}},
		{"bad env", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []*corev1.EnvVar{
				{Name: "1=X"},
				{Name: "", Value: "v"},
				{Name: "B", ValueFrom: &corev1.EnvVarSource{}},
				{Name: "C", ValueFrom: &corev1.EnvVarSource{
					ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "cm", Key: "k"},
					SecretKeyRef:    &corev1.SecretKeySelector{Name: "s", Key: "k"}}},
				{Name: "D", Value: "x", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.bogus"}}},
				{Name: "E", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "s"}}},
			}
		}, []fe{
			{c0 + ".env[0].name", Invalid}, {c0 + ".env[1].name", Required}, {c0 + ".env[2].valueFrom", Invalid},
			{c0 + ".env[3].valueFrom", Invalid}, {c0 + ".env[4].valueFrom", Invalid},
			{c0 + ".env[4].valueFrom.fieldRef.fieldPath", NotSupported}, {c0 + ".env[5].valueFrom.secretKeyRef.key", Required},
		}},
		{"bad quantity", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Limits["cpu"] = "lots" }, []fe{{c0 + ".resources.limits[cpu]", Invalid}}},
		{"negative quantity", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Limits["memory"] = "-1Mi" }, []fe{{c0 + ".resources.limits[memory]", Invalid}}},
		{"bad resource name", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Limits["gpu"] = "1" }, []fe{{c0 + ".resources.limits[gpu]", Invalid}}},
		{"request over limit", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = map[string]string{"memory": "128Mi", "cpu": "0.5"}
		}, []fe{{c0 + ".resources.requests[memory]", Invalid}}},
		{"mount of unknown volume", func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []*corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}, []fe{{c0 + ".volumeMounts[0].name", NotFound}}},
		{"probe on a port name the container lacks", func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Path: "/health", Port: str("metrics")}}
			p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: num(1234)}}
		}, []fe{{c0 + ".livenessProbe.httpGet.port", Invalid}}},
		{"bad mounts", func(p *corev1.Pod) {
			p.Spec.Volumes = []*corev1.Volume{{Name: "data", EmptyDir: &corev1.EmptyDirVolumeSource{}}}
			p.Spec.Containers[0].VolumeMounts = []*corev1.VolumeMount{
				{Name: "data", MountPath: "/data"}, {Name: "data", MountPath: "/data"}, {Name: "data"}, {Name: "data", MountPath: "/x", SubPath: "../etc"},
			}
		}, []fe{{c0 + ".volumeMounts[1].mountPath", Invalid}, {c0 + ".volumeMounts[2].mountPath", Required}, {c0 + ".volumeMounts[3].subPath", Invalid}}},
		{"bad volumes", func(p *corev1.Pod) {
			p.Spec.Volumes = []*corev1.Volume{
				{Name: "a", EmptyDir: &corev1.EmptyDirVolumeSource{}},
				{Name: "a", EmptyDir: &corev1.EmptyDirVolumeSource{}},
				{Name: "b"},
				{Name: "c", EmptyDir: &corev1.EmptyDirVolumeSource{}, ConfigMap: &corev1.ConfigMapVolumeSource{Name: "x"}},
				{Name: "d", Secret: &corev1.SecretVolumeSource{DefaultMode: proto.Int32(0o1000)}},
				{Name: "e", ConfigMap: &corev1.ConfigMapVolumeSource{Items: []*corev1.KeyToPath{{Key: "k", Path: "/abs", Mode: proto.Int32(-1)}}}},
				{Name: "Bad_Name", HostPath: &corev1.HostPathVolumeSource{Path: "/srv", Type: "Pipe"}},
			}
		}, []fe{
			{"spec.volumes[1].name", Duplicate}, {"spec.volumes[2]", Required}, {"spec.volumes[3].configMap", Forbidden},
			{"spec.volumes[4].secret.secretName", Required}, {"spec.volumes[4].secret.defaultMode", Invalid},
			{"spec.volumes[5].configMap.name", Required}, {"spec.volumes[5].configMap.items[0].path", Invalid},
			{"spec.volumes[5].configMap.items[0].mode", Invalid},
			{"spec.volumes[6].name", Invalid}, {"spec.volumes[6].hostPath.type", NotSupported},
		}},
		{"bad probes", func(p *corev1.Pod) {
			c := p.Spec.Containers[0]
			c.LivenessProbe = &corev1.Probe{SuccessThreshold: 2, HttpGet: &corev1.HTTPGetAction{Port: num(0)}}
			c.ReadinessProbe = &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"true"}}, TcpSocket: &corev1.TCPSocketAction{Port: str("no_good")}, PeriodSeconds: -1}
			c.StartupProbe = &corev1.Probe{}
		}, []fe{
			{c0 + ".livenessProbe.successThreshold", Invalid}, {c0 + ".livenessProbe.httpGet.port", Invalid},
			{c0 + ".readinessProbe.tcpSocket", Forbidden}, {c0 + ".readinessProbe.tcpSocket.port", Invalid},
			{c0 + ".readinessProbe.periodSeconds", Invalid}, {c0 + ".startupProbe", Required},
		}},
		{"probe port missing", func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{}}
		}, []fe{{c0 + ".livenessProbe.tcpSocket.port", Required}}},
		{"bad policies", func(p *corev1.Pod) {
			p.Spec.RestartPolicy, p.Spec.DnsPolicy = "Sometimes", "Google"
			p.Spec.TerminationGracePeriodSeconds = proto.Int32(-1)
			p.Spec.ActiveDeadlineSeconds = proto.Int32(0)
		}, []fe{{"spec.restartPolicy", NotSupported}, {"spec.dnsPolicy", NotSupported},
			{"spec.terminationGracePeriodSeconds", Invalid}, {"spec.activeDeadlineSeconds", Invalid}}},
		{"dnsPolicy None needs nameservers", func(p *corev1.Pod) { p.Spec.DnsPolicy = "None" }, []fe{{"spec.dnsConfig.nameservers", Required}}},
		{"bad tolerations", func(p *corev1.Pod) {
			p.Spec.Tolerations = []*corev1.Toleration{
				{Key: "k", Operator: "Exists", Value: "v"},
				{Key: "k", Operator: "Like"},
				{Key: "k", Value: "v", Effect: "NoWay"},
				{Operator: "Equal", Value: "v"},
				{Key: "k", Operator: "Exists", Effect: "NoSchedule", TolerationSeconds: proto.Int32(5)},
			}
		}, []fe{
			{"spec.tolerations[0].operator", Invalid}, {"spec.tolerations[1].operator", NotSupported},
			{"spec.tolerations[2].effect", NotSupported}, {"spec.tolerations[3].operator", Invalid},
			{"spec.tolerations[4].effect", Invalid},
		}},
		{"bad node selector", func(p *corev1.Pod) {
			p.Spec.NodeSelector = map[string]string{"bad key!": "ok", "disk": "bad value!"}
		}, []fe{{"spec.nodeSelector", Invalid}, {"spec.nodeSelector", Invalid}}},
		{"bad node affinity", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []*corev1.NodeSelectorTerm{
					{MatchExpressions: []*corev1.NodeSelectorRequirement{{Key: "zone", Operator: "In"}, {Key: "n", Operator: "Gt", Values: []string{"1"}}}},
				}},
				PreferredDuringSchedulingIgnoredDuringExecution: []*corev1.PreferredSchedulingTerm{{Weight: 0, Preference: &corev1.NodeSelectorTerm{}}},
			}}
		}, []fe{
			{"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values", Required},
			{"spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight", Invalid},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := seedPod()
			tt.mutate(p)
			assertErrors(t, Validate(p), tt.want...)
		})
	}
}
