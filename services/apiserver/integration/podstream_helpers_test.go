package integration

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/kubelet/kubelettest"
	"google.golang.org/grpc"
)

// streamSetup is an apiserver with a fake kubelet behind node-1 and pods
// in every state pods/log and pods/exec care about.
type streamSetup struct {
	*server
	kubelet *kubelettest.Kubelet
}

// startStreams starts the apiserver and a fake kubelet, registers nodes
// and creates the pods (all in default):
//
//	web         one container "app", on node-1 (the fake kubelet)
//	multi       containers "a", "b" and init container "setup", on node-1
//	pending     no node
//	orphan      on node "ghost", which is not registered
//	stranded    on node-noport, which reports no kubelet port
//	unreachable on node-down, whose kubelet port has no listener
//
// The fake kubelet serves TLS with a self-signed certificate and requires
// the apiserver's client certificate (apiserver-kubelet-client of the
// cert dir), as a real kubelet does.
func startStreams(t *testing.T) *streamSetup {
	t.Helper()
	return startStreamsWith(t, options{})
}

// startStreamsWith is startStreams with the server's options; with
// --insecure the fake kubelet is plaintext.
func startStreamsWith(t *testing.T, o options) *streamSetup {
	t.Helper()
	s := start(t, o)
	var k *kubelettest.Kubelet
	if o.insecure {
		k = kubelettest.Start(t)
	} else {
		serving := o.kubeletServing
		if serving == nil {
			c, _ := selfSignedKubelet(t)
			serving = &c
		}
		k = kubelettest.StartTLS(t, *serving, s.ca.Pool())
	}
	k.SetChunks("one\n", "two\n")
	c := ctx(t)
	noPort := k.Node("node-noport")
	noPort.Status.DaemonEndpoints = nil
	down := k.Node("node-down")
	down.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(portOf(t, freeAddr(t)))
	for _, n := range []*corev1.Node{k.Node("node-1"), noPort, down} {
		if _, err := s.cs.Nodes().Create(c, n); err != nil {
			t.Fatalf("create node %s: %v", n.Metadata.Name, err)
		}
	}
	pods := []*corev1.Pod{
		onNode(pod("default", "web", nil), "node-1"),
		onNode(pod("default", "pending", nil), ""),
		onNode(pod("default", "orphan", nil), "ghost"),
		onNode(pod("default", "stranded", nil), "node-noport"),
		onNode(pod("default", "unreachable", nil), "node-down"),
	}
	multi := onNode(pod("default", "multi", nil), "node-1")
	multi.Spec.Containers = []*corev1.Container{{Name: "a", Image: "registry.local/a:1"}, {Name: "b", Image: "registry.local/b:1"}}
	multi.Spec.InitContainers = []*corev1.Container{{Name: "setup", Image: "registry.local/setup:1"}}
	for _, p := range append(pods, multi) {
		if _, err := s.cs.Pods().Create(c, p); err != nil {
			t.Fatalf("create pod %s: %v", p.Metadata.Name, err)
		}
	}
	return &streamSetup{server: s, kubelet: k}
}

func onNode(p *corev1.Pod, node string) *corev1.Pod {
	p.Spec.NodeName = node
	return p
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("split %s: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("port of %s: %v", addr, err)
	}
	return n
}

// readLog reads a gRPC log stream to its end.
func readLog(stream grpc.ServerStreamingClient[corev1.PodLogChunk]) (string, error) {
	var b strings.Builder
	for {
		c, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		b.Write(c.GetData())
	}
}

// waitKubeletIdle polls until the fake kubelet serves no stream.
func waitKubeletIdle(t *testing.T, k *kubelettest.Kubelet, what string) {
	t.Helper()
	if !poll(10*time.Second, func() bool { return k.Open() == 0 }) {
		t.Fatalf("%s: the kubelet still serves %d streams", what, k.Open())
	}
}

// streamGoroutines counts the goroutines running the apiserver's pods/log
// and pods/exec code or the fake kubelet's handlers.
func streamGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "apiserver/server.(*podService)") || strings.Contains(g, "apiserver/server.forwardInput") ||
			strings.Contains(g, "apiserver/rest.(*logHandler)") || strings.Contains(g, "kubelettest.(*Kubelet)") {
			count++
		}
	}
	return count
}

// waitNoStreamGoroutines polls until no goroutine of the stream code is left.
func waitNoStreamGoroutines(t *testing.T, what string) {
	t.Helper()
	if !poll(10*time.Second, func() bool { return streamGoroutines() == 0 }) {
		t.Fatalf("%s: %d pods/log or pods/exec goroutines left", what, streamGoroutines())
	}
}

// exec opens an exec session and sends its start.
func (s *streamSetup) exec(t *testing.T, c context.Context, start *corev1.PodExecStart) grpc.BidiStreamingClient[corev1.PodExecRequest, corev1.PodExecResponse] {
	t.Helper()
	stream, err := s.cs.Pods().Exec(c)
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if err := stream.Send(&corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Start{Start: start}}); err != nil {
		t.Fatalf("send start: %v", err)
	}
	return stream
}

// execOutput is what an exec session answered.
type execOutput struct {
	stdout, stderr string
	exitCode       int32
	exited         bool
}

// readExec reads a session's answers to its end.
func readExec(stream grpc.BidiStreamingClient[corev1.PodExecRequest, corev1.PodExecResponse]) (execOutput, error) {
	var out execOutput
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch m := r.GetMsg().(type) {
		case *corev1.PodExecResponse_Stdout:
			out.stdout += string(m.Stdout)
		case *corev1.PodExecResponse_Stderr:
			out.stderr += string(m.Stderr)
		case *corev1.PodExecResponse_ExitCode:
			out.exitCode, out.exited = m.ExitCode, true
		}
	}
}

// selfSignedKubelet is a kubelet serving certificate for 127.0.0.1 signed
// by a CA of its own (as a kubelet's self-signed one, unknown to the
// apiserver), and that CA.
func selfSignedKubelet(t *testing.T) (tls.Certificate, *pki.CA) {
	t.Helper()
	ca, err := pki.NewCA("node-1-ca")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.IssueServing("node-1", pki.ServingNames{DNSNames: []string{"node-1"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return kp.TLSCertificate(), ca
}
