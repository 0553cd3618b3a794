// Package kubelettest is a fake KubeletService for tests. It serves gRPC on
// 127.0.0.1, plaintext (Start) or, as a real kubelet, over TLS requiring a
// client certificate of the apiserver (StartTLS), records the requests it receives, streams canned log
// chunks (and, to a following stream, whatever Push sends), echoes an exec
// session's stdin to its stdout and ends the session with an exit code.
package kubelettest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	kubeletv1 "github.com/tugboat-sh/tugboat/gen/tugboat/kubelet/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// followBuffer is how many pushed chunks a following stream may lag behind.
const followBuffer = 64

// Kubelet is a running fake kubelet.
type Kubelet struct {
	kubeletv1.UnimplementedKubeletServiceServer
	// Addr is host:port of the server, Port its port.
	Addr string
	Port int32

	mu        sync.Mutex
	chunks    [][]byte
	logErr    error
	execErr   error
	exitCode  int32
	logs      []*corev1.PodLogOptions
	execs     []*corev1.PodExecStart
	open      int
	followers map[chan []byte]struct{}
}

// Start serves a plaintext fake kubelet on 127.0.0.1:0 until the test ends.
func Start(t testing.TB) *Kubelet {
	t.Helper()
	return start(t)
}

// StartTLS serves a fake kubelet over TLS with the serving certificate,
// requiring a client certificate signed by clientCAs whose user is
// kube-apiserver-kubelet-client or whose groups hold system:masters (the
// kubelet's rule); another client certificate is PermissionDenied.
func StartTLS(t testing.TB, serving tls.Certificate, clientCAs *x509.CertPool) *Kubelet {
	t.Helper()
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{serving},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs,
	}
	return start(t, grpc.Creds(credentials.NewTLS(cfg)),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := authorise(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := authorise(ss.Context()); err != nil {
				return err
			}
			return h(srv, ss)
		}))
}

// authorise lets the apiserver's kubelet client (or system:masters) in.
func authorise(ctx context.Context) error {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return status.Error(codes.Unauthenticated, "kubelettest: no peer")
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.VerifiedChains) == 0 {
		return status.Error(codes.Unauthenticated, "kubelettest: no verified client certificate")
	}
	subj := ti.State.VerifiedChains[0][0].Subject
	if subj.CommonName != apiserverUser && !slices.Contains(subj.Organization, mastersGroup) {
		return status.Errorf(codes.PermissionDenied, "kubelettest: user %q (groups %v) may not use the kubelet API", subj.CommonName, subj.Organization)
	}
	return nil
}

// The identities a kubelet lets in.
const (
	apiserverUser = "kube-apiserver-kubelet-client"
	mastersGroup  = "system:masters"
)

func start(t testing.TB, opts ...grpc.ServerOption) *Kubelet {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("kubelettest: listen: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	k := &Kubelet{Addr: ln.Addr().String(), Port: int32(port), followers: map[chan []byte]struct{}{}}
	gs := grpc.NewServer(opts...)
	kubeletv1.RegisterKubeletServiceServer(gs, k)
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	return k
}

// Node returns a Node named name whose status points at this kubelet:
// InternalIP 127.0.0.1 and daemonEndpoints.kubeletEndpoint.Port.
func (k *Kubelet) Node(name string) *corev1.Node {
	return &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: name},
		Status: &corev1.NodeStatus{
			Addresses: []*corev1.NodeAddress{
				{Type: "Hostname", Address: name},
				{Type: "InternalIP", Address: "127.0.0.1"},
			},
			DaemonEndpoints: &corev1.NodeDaemonEndpoints{KubeletEndpoint: &corev1.DaemonEndpoint{Port: k.Port}},
		},
	}
}

// SetChunks sets the chunks every Log sends before it ends or follows.
func (k *Kubelet) SetChunks(chunks ...string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.chunks = k.chunks[:0]
	for _, c := range chunks {
		k.chunks = append(k.chunks, []byte(c))
	}
}

// SetLogError makes Log fail with err (a gRPC status) before sending anything.
func (k *Kubelet) SetLogError(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.logErr = err
}

// SetExecError makes Exec fail with err after it received the start.
func (k *Kubelet) SetExecError(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.execErr = err
}

// SetExitCode sets the exit code an exec session ends with.
func (k *Kubelet) SetExitCode(code int32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.exitCode = code
}

// LogRequests returns the options of every Log received, oldest first.
func (k *Kubelet) LogRequests() []*corev1.PodLogOptions {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*corev1.PodLogOptions, len(k.logs))
	for i, o := range k.logs {
		out[i] = proto.CloneOf(o)
	}
	return out
}

// ExecStarts returns the start of every Exec received, oldest first.
func (k *Kubelet) ExecStarts() []*corev1.PodExecStart {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*corev1.PodExecStart, len(k.execs))
	for i, s := range k.execs {
		out[i] = proto.CloneOf(s)
	}
	return out
}

// Open is the number of Log and Exec streams being served right now.
func (k *Kubelet) Open() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.open
}

// Followers is the number of following Log streams waiting for Push.
func (k *Kubelet) Followers() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.followers)
}

// Push sends data to every following Log stream and returns how many got it.
func (k *Kubelet) Push(data string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for ch := range k.followers {
		select {
		case ch <- []byte(data):
			n++
		default:
		}
	}
	return n
}

func (k *Kubelet) enter() func() {
	k.mu.Lock()
	k.open++
	k.mu.Unlock()
	return func() {
		k.mu.Lock()
		k.open--
		k.mu.Unlock()
	}
}

// Log records opts, sends its header at once (as a kubelet may once it
// opened the log), then the canned chunks and, when following, what Push
// sends until the caller goes away.
func (k *Kubelet) Log(opts *corev1.PodLogOptions, stream grpc.ServerStreamingServer[corev1.PodLogChunk]) error {
	defer k.enter()()
	k.mu.Lock()
	k.logs = append(k.logs, proto.CloneOf(opts))
	chunks, logErr := k.chunks, k.logErr
	var follow chan []byte
	if opts.GetFollow() && logErr == nil {
		follow = make(chan []byte, followBuffer)
		k.followers[follow] = struct{}{}
		defer func() {
			k.mu.Lock()
			delete(k.followers, follow)
			k.mu.Unlock()
		}()
	}
	k.mu.Unlock()
	if logErr != nil {
		return logErr
	}
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	for _, c := range chunks {
		if err := stream.Send(&corev1.PodLogChunk{Data: c}); err != nil {
			return err
		}
	}
	if follow == nil {
		return nil
	}
	for {
		select {
		case <-stream.Context().Done():
			return status.FromContextError(stream.Context().Err()).Err()
		case c := <-follow:
			if err := stream.Send(&corev1.PodLogChunk{Data: c}); err != nil {
				return err
			}
		}
	}
}

// Exec records the start, then echoes stdin to stdout (prefixed by the
// command's arguments on stderr, when stderr is asked for) until stdin is
// closed, and ends with the exit code.
func (k *Kubelet) Exec(stream grpc.BidiStreamingServer[corev1.PodExecRequest, corev1.PodExecResponse]) error {
	defer k.enter()()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return status.Error(codes.InvalidArgument, "kubelettest: the first exec message must be start")
	}
	k.mu.Lock()
	k.execs = append(k.execs, proto.CloneOf(start))
	execErr, exitCode := k.execErr, k.exitCode
	k.mu.Unlock()
	if execErr != nil {
		return execErr
	}
	// No SendHeader: like a real command that waits for input, the
	// session's first message (and so its header) may come only after
	// the caller sent something.
	if start.GetStderr() {
		msg := "argc=" + strconv.Itoa(len(start.GetCommand())) + "\n"
		if err := stream.Send(&corev1.PodExecResponse{Msg: &corev1.PodExecResponse_Stderr{Stderr: []byte(msg)}}); err != nil {
			return err
		}
	}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if req.GetCloseStdin() {
			break
		}
		if in := req.GetStdin(); in != nil {
			if err := stream.Send(&corev1.PodExecResponse{Msg: &corev1.PodExecResponse_Stdout{Stdout: in}}); err != nil {
				return err
			}
		}
	}
	return stream.Send(&corev1.PodExecResponse{Msg: &corev1.PodExecResponse_ExitCode{ExitCode: exitCode}})
}
