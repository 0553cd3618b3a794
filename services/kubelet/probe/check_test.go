package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

type fakeExec struct {
	req  *runtimeapi.ExecSyncRequest
	code int32
}

func (f *fakeExec) ExecSync(_ context.Context, in *runtimeapi.ExecSyncRequest, _ ...grpc.CallOption) (*runtimeapi.ExecSyncResponse, error) {
	f.req = in
	return &runtimeapi.ExecSyncResponse{ExitCode: f.code, Stderr: []byte("no such file")}, nil
}

func TestProberHTTP(t *testing.T) {
	var gotHeader, gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader, gotHost = r.Header.Get("X-Probe"), r.Host
		switch r.URL.Path {
		case "/health":
			w.WriteHeader(200)
		case "/moved":
			http.Redirect(w, r, "/health", http.StatusFound)
		default:
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`{"healthy":false}`))
		}
	}))
	defer srv.Close()
	_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	target := Target{PodIP: "127.0.0.1", Ports: []*corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}
	pr := NewProber(nil)
	probe := func(path string, p *structpb.Value, headers ...*corev1.HTTPHeader) *corev1.Probe {
		return &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Path: path, Port: p, HttpHeaders: headers}}
	}
	if ok, msg := pr.Check(t.Context(), probe("/health", structpb.NewNumberValue(float64(port)), &corev1.HTTPHeader{Name: "X-Probe", Value: "yes"}, &corev1.HTTPHeader{Name: "Host", Value: "app.local"}), target); !ok {
		t.Errorf("healthy endpoint failed: %s", msg)
	}
	if gotHeader != "yes" || gotHost != "app.local" {
		t.Errorf("headers X-Probe=%q Host=%q, want the probe's", gotHeader, gotHost)
	}
	if ok, msg := pr.Check(t.Context(), probe("/moved", structpb.NewStringValue("http")), target); !ok {
		t.Errorf("named port with a redirect failed: %s", msg)
	}
	ok, msg := pr.Check(t.Context(), probe("/broken", structpb.NewStringValue("http")), target)
	if ok || !strings.Contains(msg, "statuscode: 500") {
		t.Errorf("500 gave ok=%v %q", ok, msg)
	}
	ok, msg = pr.Check(t.Context(), probe("/health", structpb.NewStringValue("metrics")), target)
	if ok || !strings.Contains(msg, `port "metrics" is not a port of the container`) {
		t.Errorf("unknown named port gave ok=%v %q", ok, msg)
	}
	p := probe("/health", structpb.NewNumberValue(float64(port)))
	p.HttpGet.Host = "192.0.2.1"
	ok, msg = pr.Check(t.Context(), p, target)
	if ok || !strings.Contains(msg, "refused") {
		t.Errorf("a foreign host gave ok=%v %q", ok, msg)
	}
}

func TestProberTCPAndExec(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	target := Target{PodIP: "127.0.0.1", ContainerID: "c1"}
	tcp := &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: structpb.NewNumberValue(float64(port))}}
	pr := NewProber(&fakeExec{})
	if ok, msg := pr.Check(t.Context(), tcp, target); !ok {
		t.Errorf("open port failed: %s", msg)
	}
	l.Close()
	if ok, msg := pr.Check(t.Context(), tcp, target); ok || !strings.Contains(msg, "refused") {
		t.Errorf("closed port gave ok=%v %q", ok, msg)
	}
	ex := &fakeExec{code: 1}
	pr = NewProber(ex)
	execProbe := &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/healthy"}}, TimeoutSeconds: 3}
	ok, msg := pr.Check(t.Context(), execProbe, target)
	if ok || !strings.Contains(msg, "exited with 1: no such file") {
		t.Errorf("exit 1 gave ok=%v %q", ok, msg)
	}
	if ex.req.GetContainerId() != "c1" || ex.req.GetTimeout() != 3 || strings.Join(ex.req.GetCmd(), " ") != "cat /tmp/healthy" {
		t.Errorf("ExecSync got %v", ex.req)
	}
	ex.code = 0
	if ok, msg := pr.Check(t.Context(), execProbe, target); !ok {
		t.Errorf("exit 0 failed: %s", msg)
	}
}

func TestProberGRPC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()
	port := int32(l.Addr().(*net.TCPAddr).Port)
	target := Target{PodIP: "127.0.0.1"}
	pr := NewProber(nil)
	p := &corev1.Probe{Grpc: &corev1.GRPCAction{Port: port}, TimeoutSeconds: 5}
	if ok, msg := pr.Check(t.Context(), p, target); !ok {
		t.Errorf("serving health failed: %s", msg)
	}
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
	p.Grpc.Service = proto.String("db")
	if ok, msg := pr.Check(t.Context(), p, target); ok || !strings.Contains(msg, "NOT_SERVING") {
		t.Errorf("NOT_SERVING gave ok=%v %q", ok, msg)
	}
}
