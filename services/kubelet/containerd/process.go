package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Process is a running managed containerd.
type Process struct {
	cfg  Config
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start writes the config and starts containerd, returning once its CRI
// endpoint answers Version (or ctx ends, or it exits). Its output goes to
// out (a log file, say); nothing is written when out is nil.
func Start(ctx context.Context, cfg Config, out io.Writer, log *zap.Logger) (*Process, error) {
	data, err := cfg.Render()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{cfg.Dir, cfg.CNIConfDir()} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("containerd dir: %w", err)
		}
	}
	if err := os.WriteFile(cfg.ConfigFile(), data, 0o600); err != nil {
		return nil, fmt.Errorf("write containerd config: %w", err)
	}
	hosts, err := cfg.HostsFiles()
	if err != nil {
		return nil, err
	}
	_ = os.RemoveAll(filepath.Join(cfg.Dir, "certs.d"))
	for path, data := range hosts {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("registry hosts dir: %w", err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	}
	_ = os.Remove(cfg.Socket()) // a stale socket from a killed run
	bin := cfg.Binary
	if bin == "" {
		bin = "containerd"
	}
	cmd := exec.Command(bin, "--config", cfg.ConfigFile())
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group: a Ctrl-C to the kubelet's terminal must not
	// kill containerd before the kubelet has stopped it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	p := &Process{cfg: cfg, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	log.Info("containerd started", zap.Int("pid", cmd.Process.Pid), zap.String("endpoint", cfg.Endpoint()))
	if err := p.waitReady(ctx); err != nil {
		p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

// waitReady polls the CRI Version call until it answers.
func (p *Process) waitReady(ctx context.Context) error {
	conn, err := grpc.NewClient(p.cfg.Endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("containerd client: %w", err)
	}
	defer conn.Close()
	rt := runtimeapi.NewRuntimeServiceClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := rt.Version(cctx, &runtimeapi.VersionRequest{})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return fmt.Errorf("containerd exited during start: %v", p.err)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("containerd at %s not ready after 30s: %w", p.cfg.Endpoint(), err)
		}
	}
}

// Pid is containerd's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when containerd has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM and waits up to grace, then kills. Containers keep
// running in their shims.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	var exit *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exit) {
		return fmt.Errorf("stop containerd: %w", p.err)
	}
	return nil
}
