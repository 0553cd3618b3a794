package server

import (
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"google.golang.org/grpc/codes"
)

func podWith(containers []string, inits ...string) *corev1.Pod {
	p := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "x"}, Spec: &corev1.PodSpec{}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, &corev1.Container{Name: c})
	}
	for _, c := range inits {
		p.Spec.InitContainers = append(p.Spec.InitContainers, &corev1.Container{Name: c})
	}
	return p
}

func TestChooseContainer(t *testing.T) {
	tests := []struct {
		name      string
		pod       *corev1.Pod
		container string
		want, err string
	}{
		{"only one", podWith([]string{"a"}), "", "a", ""},
		{"named", podWith([]string{"a", "b"}), "b", "b", ""},
		{"init container", podWith([]string{"a"}, "setup"), "setup", "setup", ""},
		{"several", podWith([]string{"a", "b"}), "", "", "a container name must be specified for pod x, choose one of: [a b]"},
		{"several with init", podWith([]string{"a", "b"}, "setup"), "", "",
			"a container name must be specified for pod x, choose one of: [a b] or one of the init containers: [setup]"},
		{"none", podWith(nil), "", "", "a container name must be specified for pod x"},
		{"unknown", podWith([]string{"a"}), "y", "", "container y is not valid for pod x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chooseContainer(tt.pod, tt.container)
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Fatalf("chooseContainer = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			st := apierr.FromError(err)
			if st.Code() != codes.InvalidArgument || st.Message() != tt.err {
				t.Fatalf("chooseContainer error = %v %q; want InvalidArgument %q", st.Code(), st.Message(), tt.err)
			}
			if s := apierr.StatusOf(st); s.Code != 400 || s.Reason != "BadRequest" {
				t.Fatalf("HTTP %d %s, want 400 BadRequest", s.Code, s.Reason)
			}
		})
	}
}

func TestValidateLogOptions(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	tests := []struct {
		name   string
		opts   *corev1.PodLogOptions
		fields []string
	}{
		{"none", &corev1.PodLogOptions{}, nil},
		{"zeros allowed for tail", &corev1.PodLogOptions{TailLines: n(0), SinceSeconds: n(1), LimitBytes: n(1)}, nil},
		{"negative tail", &corev1.PodLogOptions{TailLines: n(-1)}, []string{"tailLines"}},
		{"zero since and limit", &corev1.PodLogOptions{SinceSeconds: n(0), LimitBytes: n(0)}, []string{"sinceSeconds", "limitBytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := validateLogOptions(tt.opts)
			var fields []string
			for _, e := range errs {
				fields = append(fields, e.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("invalid fields %v, want %v (%v)", fields, tt.fields, errs)
			}
		})
	}
}
