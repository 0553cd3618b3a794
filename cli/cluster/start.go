package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// Start runs "tug <args>" (up --foreground with the same flags) in the
// background, detached from the terminal with its output in the data
// dir's tug.log, and waits until the node is Ready. It returns how long
// that took, or why the cluster did not come up (with the log's end).
func Start(ctx context.Context, c Config, args []string) (time.Duration, error) {
	begin := time.Now()
	if err := Preflight(c); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return 0, fmt.Errorf("data dir: %w", err)
	}
	logf, err := os.OpenFile(c.logFile(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("log file: %w", err)
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, io.SeekEnd)
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("find tug's own binary: %w", err)
	}
	_ = os.Remove(c.internalConfig()) // a stale one would be read before the apiserver is up
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start the cluster process: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(ctx, c.Wait)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready, _ := nodeReady(ctx, c, begin); ready {
			_ = cmd.Process.Release()
			return time.Since(begin), nil
		}
		select {
		case err := <-exited:
			return 0, fmt.Errorf("the cluster process exited (%v); the end of %s:\n%s", err, c.logFile(), tail(c.logFile(), offset, 20))
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return 0, fmt.Errorf("node %s was not Ready within %v; it is stopping, see %s:\n%s", c.NodeName, c.Wait, c.logFile(), tail(c.logFile(), offset, 20))
		case <-tick.C:
		}
	}
}

// nodeReady asks the apiserver, once its kubeconfig is written, whether
// the node is Ready, as reported by a kubelet of this run: after a crash
// the stored Node says Ready until the new kubelet reports.
func nodeReady(ctx context.Context, c Config, since time.Time) (bool, error) {
	kc, err := config.Load(c.internalConfig(), "")
	if err != nil {
		return false, err
	}
	conn, err := config.Dial(ctx, kc)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	n, err := clientset.New(conn).Nodes().Get(cctx, &metav1.GetOptions{Name: c.NodeName})
	if err != nil {
		return false, err
	}
	for _, cond := range n.GetStatus().GetConditions() {
		if cond.GetType() == "Ready" {
			fresh := !cond.GetLastHeartbeatTime().AsTime().Before(since.Truncate(time.Second))
			return cond.GetStatus() == "True" && fresh, nil
		}
	}
	return false, nil
}

// tail returns the last n lines written to path after offset.
func tail(path string, offset int64, n int) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b[offset:]), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.TrimSpace([]byte(strings.Join(lines, "\n"))))
}
