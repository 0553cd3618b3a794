package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestPodLogGRPC checks that PodService.Log streams the kubelet's chunks and
// passes the options on, with the container resolved.
func TestPodLogGRPC(t *testing.T) {
	t.Parallel()
	s := startStreams(t)
	tail, since, limit := int64(5), int64(60), int64(100)
	stream, err := s.cs.Pods().Log(ctx(t), &corev1.PodLogOptions{Name: "web", TailLines: &tail, SinceSeconds: &since, LimitBytes: &limit, Timestamps: true, Previous: true})
	if err != nil {
		t.Fatalf("Log: %v", err)
	}
	got, err := readLog(stream)
	if err != nil || got != "one\ntwo\n" {
		t.Fatalf("log = %q, %v; want the kubelet's chunks", got, err)
	}
	reqs := s.kubelet.LogRequests()
	if len(reqs) != 1 {
		t.Fatalf("kubelet got %d log requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Namespace != "default" || r.Name != "web" || r.Container != "app" || r.GetTailLines() != 5 || r.GetSinceSeconds() != 60 ||
		r.GetLimitBytes() != 100 || !r.Timestamps || !r.Previous || r.Follow {
		t.Fatalf("kubelet got %v, want default/web container app with the options passed through", r)
	}

	stream, err = s.cs.Pods().Log(ctx(t), &corev1.PodLogOptions{Namespace: "default", Name: "multi", Container: "setup"})
	if err != nil {
		t.Fatalf("Log: %v", err)
	}
	if _, err := readLog(stream); err != nil {
		t.Fatalf("log of init container: %v", err)
	}
	if r := s.kubelet.LogRequests()[1]; r.Container != "setup" {
		t.Fatalf("kubelet got container %q, want setup", r.Container)
	}
}

// TestPodLogGRPCErrors checks the errors of PodService.Log and that the
// kubelet's own errors keep their code.
func TestPodLogGRPCErrors(t *testing.T) {
	t.Parallel()
	s := startStreams(t)
	neg := int64(-1)
	tests := []struct {
		name string
		opts *corev1.PodLogOptions
		code codes.Code
		msg  string
	}{
		{"unknown pod", &corev1.PodLogOptions{Name: "nope"}, codes.NotFound, `pods "nope" not found`},
		{"unscheduled", &corev1.PodLogOptions{Name: "pending"}, codes.FailedPrecondition, "pod pending does not have a host assigned"},
		{"container needed", &corev1.PodLogOptions{Name: "multi"}, codes.InvalidArgument,
			"a container name must be specified for pod multi, choose one of: [a b] or one of the init containers: [setup]"},
		{"unknown container", &corev1.PodLogOptions{Name: "web", Container: "side"}, codes.InvalidArgument, "container side is not valid for pod web"},
		{"negative tail", &corev1.PodLogOptions{Name: "web", TailLines: &neg}, codes.InvalidArgument,
			`PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0`},
		{"node not registered", &corev1.PodLogOptions{Name: "orphan"}, codes.Unavailable, `node "ghost" is not registered`},
		{"node without port", &corev1.PodLogOptions{Name: "stranded"}, codes.Unavailable, `node "node-noport" reports no kubelet port`},
		{"kubelet down", &corev1.PodLogOptions{Name: "unreachable"}, codes.Unavailable, `cannot reach the kubelet of node "node-down" at 127.0.0.1:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream, err := s.cs.Pods().Log(ctx(t), tt.opts)
			if err == nil {
				_, err = readLog(stream)
			}
			wantCode(t, err, tt.code, tt.name)
			if msg := status.Convert(err).Message(); !strings.Contains(msg, tt.msg) {
				t.Fatalf("message %q, want it to contain %q", msg, tt.msg)
			}
		})
	}

	// The kubelet's own errors pass with their code.
	s.kubelet.SetLogError(status.Error(codes.NotFound, "container app has no previous instance"))
	stream, err := s.cs.Pods().Log(ctx(t), &corev1.PodLogOptions{Name: "web", Previous: true})
	if err == nil {
		_, err = readLog(stream)
	}
	wantCode(t, err, codes.NotFound, "kubelet error")
	if msg := status.Convert(err).Message(); msg != "container app has no previous instance" {
		t.Fatalf("kubelet error message %q", msg)
	}
}

// TestPodLogCancel checks that a caller going away ends the kubelet's
// stream and leaves no goroutine behind. It is not parallel, so that the
// goroutines it counts are its own.
func TestPodLogCancel(t *testing.T) {
	s := startStreams(t)
	c, cancel := context.WithCancel(ctx(t))
	stream, err := s.cs.Pods().Log(c, &corev1.PodLogOptions{Name: "web", Follow: true})
	if err != nil {
		t.Fatalf("Log: %v", err)
	}
	for _, want := range []string{"one\n", "two\n"} {
		chunk, err := stream.Recv()
		if err != nil || string(chunk.GetData()) != want {
			t.Fatalf("chunk = %q, %v; want %q", chunk.GetData(), err, want)
		}
	}
	if !poll(10*time.Second, func() bool { return s.kubelet.Followers() == 1 }) {
		t.Fatal("the kubelet's stream never started following")
	}
	if n := s.kubelet.Push("three\n"); n != 1 {
		t.Fatalf("pushed to %d streams, want 1", n)
	}
	if chunk, err := stream.Recv(); err != nil || string(chunk.GetData()) != "three\n" {
		t.Fatalf("followed chunk = %q, %v", chunk.GetData(), err)
	}
	if streamGoroutines() == 0 {
		t.Fatal("streamGoroutines sees none while a log is open: it would prove nothing")
	}
	cancel()
	waitKubeletIdle(t, s.kubelet, "after the caller cancelled")
	waitNoStreamGoroutines(t, "after the caller cancelled")
}

// TestPodLogRequiresName checks that a Log naming no pod is a BadRequest.
func TestPodLogRequiresName(t *testing.T) {
	t.Parallel()
	s := startStreams(t)
	stream, err := s.cs.Pods().Log(ctx(t), &corev1.PodLogOptions{})
	if err == nil {
		_, err = readLog(stream)
	}
	wantCode(t, err, codes.InvalidArgument, "log without a name")
}

// TestPodStreamMetrics checks that the new RPCs are counted on both hops and
// that the kubelet connections are one per kubelet.
func TestPodStreamMetrics(t *testing.T) {
	t.Parallel()
	s := startStreams(t)
	for range 2 {
		stream, err := s.cs.Pods().Log(ctx(t), &corev1.PodLogOptions{Name: "web"})
		if err != nil {
			t.Fatalf("Log: %v", err)
		}
		if _, err := readLog(stream); err != nil {
			t.Fatalf("Log: %v", err)
		}
	}
	stream := s.exec(t, ctx(t), &corev1.PodExecStart{Name: "web", Command: []string{"true"}, Stdout: true})
	_ = stream.CloseSend()
	if _, err := readExec(stream); err != nil {
		t.Fatalf("Exec: %v", err)
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"tugboat_apiserver_grpc_server_handled_total", map[string]string{"grpc_service": "tugboat.core.v1.PodService", "grpc_method": "Log", "grpc_code": "OK"}, 2},
		{"tugboat_apiserver_grpc_server_handled_total", map[string]string{"grpc_service": "tugboat.core.v1.PodService", "grpc_method": "Exec", "grpc_code": "OK"}, 1},
		{"tugboat_apiserver_grpc_client_handled_total", map[string]string{"grpc_service": "tugboat.kubelet.v1.KubeletService", "grpc_method": "Log", "grpc_code": "OK"}, 2},
		{"tugboat_apiserver_grpc_client_handled_total", map[string]string{"grpc_service": "tugboat.kubelet.v1.KubeletService", "grpc_method": "Exec", "grpc_code": "OK"}, 1},
		{"tugboat_apiserver_kubelet_connections", nil, 1},
	}
	for _, c := range checks {
		s.waitMetric(t, s.base, c.name, c.labels, fmt.Sprint(c.want), func(v float64) bool { return v == c.want })
	}
}
