package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Target is where one container's probes go.
type Target struct {
	// PodIP is the pod's address: the only host probes connect to.
	PodIP       string
	ContainerID string
	// Ports are the container's declared ports, for named probe ports.
	Ports []*corev1.ContainerPort
}

// Execer runs a command in a container: the runtime's ExecSync.
type Execer interface {
	ExecSync(ctx context.Context, in *runtimeapi.ExecSyncRequest, opts ...grpc.CallOption) (*runtimeapi.ExecSyncResponse, error)
}

// Checker performs one probe attempt.
type Checker interface {
	Check(ctx context.Context, p *corev1.Probe, t Target) (ok bool, msg string)
}

// Prober checks httpGet, tcpSocket and exec probes for real.
type Prober struct {
	exec   Execer
	client *http.Client
}

// NewProber returns a Prober that runs exec probes through ex.
func NewProber(ex Execer) *Prober {
	tr := &http.Transport{
		// Probes are one-off requests: no idle connections are kept, and
		// HTTPS is checked for an answer, not for a trusted certificate
		// (as Kubernetes' kubelet does).
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		Proxy:             nil,
	}
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// Follow redirects on the same host only; anything else ends
			// the probe with the redirect's own (successful) status.
			if len(via) >= 10 || req.URL.Hostname() != via[0].URL.Hostname() {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return &Prober{exec: ex, client: client}
}

// timeout is the probe's timeoutSeconds, 1 s when unset.
func timeout(p *corev1.Probe) time.Duration {
	if s := p.GetTimeoutSeconds(); s > 0 {
		return time.Duration(s) * time.Second
	}
	return time.Second
}

// Check runs the probe's action once.
func (pr *Prober) Check(ctx context.Context, p *corev1.Probe, t Target) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout(p))
	defer cancel()
	switch {
	case p.GetHttpGet() != nil:
		return pr.httpGet(ctx, p.GetHttpGet(), t)
	case p.GetTcpSocket() != nil:
		return tcpSocket(ctx, p.GetTcpSocket(), t)
	case p.GetExec() != nil:
		return pr.execProbe(ctx, p, t)
	case p.GetGrpc() != nil:
		return grpcCheck(ctx, p.GetGrpc(), t)
	}
	return false, "probe has no action"
}

// Port resolves a probe's port, a number or the name of a container port.
func Port(v *structpb.Value, ports []*corev1.ContainerPort) (int, error) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		n := int(k.NumberValue)
		if n < 1 || n > 65535 {
			return 0, fmt.Errorf("invalid port number %v", k.NumberValue)
		}
		return n, nil
	case *structpb.Value_StringValue:
		if n, err := strconv.Atoi(k.StringValue); err == nil && n > 0 && n < 65536 {
			return n, nil
		}
		for _, p := range ports {
			if p.GetName() == k.StringValue {
				return int(p.GetContainerPort()), nil
			}
		}
		return 0, fmt.Errorf("port %q is not a port of the container", k.StringValue)
	}
	return 0, errors.New("probe port is missing")
}

// host refuses probes aimed anywhere but the pod itself.
func host(set string, t Target) (string, error) {
	if t.PodIP == "" {
		return "", errors.New("the pod has no IP yet")
	}
	if set != "" && set != t.PodIP {
		return "", fmt.Errorf("probe host %q refused: probes go to the pod's own IP %s only", set, t.PodIP)
	}
	return t.PodIP, nil
}

func (pr *Prober) httpGet(ctx context.Context, g *corev1.HTTPGetAction, t Target) (bool, string) {
	port, err := Port(g.GetPort(), t.Ports)
	if err != nil {
		return false, err.Error()
	}
	h, err := host(g.GetHost(), t)
	if err != nil {
		return false, err.Error()
	}
	scheme := strings.ToLower(g.GetScheme())
	if scheme == "" {
		scheme = "http"
	}
	path := g.GetPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(h, strconv.Itoa(port))}
	if pu, err := url.Parse(path); err == nil {
		u.Path, u.RawQuery = pu.Path, pu.RawQuery
	} else {
		u.Path = path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Sprintf("HTTP probe request: %v", err)
	}
	req.Header.Set("User-Agent", "kube-probe/tugboat")
	req.Header.Set("Accept", "*/*")
	for _, hd := range g.GetHttpHeaders() {
		if strings.EqualFold(hd.GetName(), "Host") {
			req.Host = hd.GetValue()
			continue
		}
		req.Header.Add(hd.GetName(), hd.GetValue())
	}
	resp, err := pr.client.Do(req)
	if err != nil {
		return false, fmt.Sprintf("Get %q: %v", u.String(), unwrapURL(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 10<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return true, ""
	}
	return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode) + bodyNote(body)
}

func bodyNote(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return ", body: " + s
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func tcpSocket(ctx context.Context, s *corev1.TCPSocketAction, t Target) (bool, string) {
	port, err := Port(s.GetPort(), t.Ports)
	if err != nil {
		return false, err.Error()
	}
	h, err := host(s.GetHost(), t)
	if err != nil {
		return false, err.Error()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(h, strconv.Itoa(port)))
	if err != nil {
		return false, fmt.Sprintf("dial tcp %s: %v", net.JoinHostPort(h, strconv.Itoa(port)), unwrapOp(err))
	}
	_ = conn.Close()
	return true, ""
}

func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err
	}
	return err
}

func (pr *Prober) execProbe(ctx context.Context, p *corev1.Probe, t Target) (bool, string) {
	if pr.exec == nil {
		return false, "exec probes need a runtime"
	}
	resp, err := pr.exec.ExecSync(ctx, &runtimeapi.ExecSyncRequest{
		ContainerId: t.ContainerID,
		Cmd:         p.GetExec().GetCommand(),
		Timeout:     int64(timeout(p) / time.Second),
	})
	if err != nil {
		return false, fmt.Sprintf("exec %v: %v", p.GetExec().GetCommand(), err)
	}
	if resp.GetExitCode() != 0 {
		out := strings.TrimSpace(string(resp.GetStdout()) + string(resp.GetStderr()))
		if len(out) > 200 {
			out = out[:200] + "..."
		}
		return false, fmt.Sprintf("command %q exited with %d: %s", strings.Join(p.GetExec().GetCommand(), " "), resp.GetExitCode(), out)
	}
	return true, ""
}
