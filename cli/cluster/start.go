package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/clusterinfo"
)

// Start runs "tug <args>" (up or init --foreground with the same flags)
// in the background, detached from the terminal with its output in the
// data dir's tug.log, and waits until the cluster is joinable (the
// cluster-info ConfigMap signed for the new bootstrap token) and, for tug
// up, the node is Ready. It returns how long that took and the join line,
// or why the cluster did not come up (with the log's end).
func Start(ctx context.Context, c Config, args []string) (time.Duration, string, error) {
	begin := time.Now()
	if err := Preflight(c); err != nil {
		return 0, "", err
	}
	if err := checkDataDir(c.DataDir); err != nil {
		return 0, "", err
	}
	// Refused here, not in the background: the process does the same.
	if err := c.resolveAdvertise(defaultRouteAddr); err != nil {
		return 0, "", err
	}
	if err := ensureDataDir(c.DataDir); err != nil {
		return 0, "", err
	}
	logf, err := openAppend(c.logFile())
	if err != nil {
		return 0, "", fmt.Errorf("log file: %w", err)
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, io.SeekEnd)
	exe, err := os.Executable()
	if err != nil {
		return 0, "", fmt.Errorf("find tug's own binary: %w", err)
	}
	// The new process writes its own join file, reusing this one's token
	// while it is valid: moved aside, so only the new line is waited for.
	if err := os.Rename(c.joinFile(), c.prevJoinFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, "", fmt.Errorf("join command file: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), BackgroundEnv+"=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, "", fmt.Errorf("start the cluster process: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(ctx, c.Wait)
	defer cancel()
	type result struct {
		line string
		err  error
	}
	ready := make(chan result, 1)
	go func() {
		line, err := waitReady(ctx, c, begin)
		ready <- result{line, err}
	}()
	select {
	case r := <-ready:
		if r.err == nil {
			_ = cmd.Process.Release()
			return time.Since(begin), r.line, nil
		}
		if ctx.Err() == nil {
			// Not the deadline: something the wait cannot get past.
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return 0, "", fmt.Errorf("waiting for the cluster failed: %w; it is stopping, see %s:\n%s", r.err, c.logFile(), tail(c.logFile(), offset, 20))
		}
	case err := <-exited:
		return 0, "", fmt.Errorf("the cluster process exited (%v); the end of %s:\n%s", err, c.logFile(), tail(c.logFile(), offset, 20))
	case <-ctx.Done():
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	what := fmt.Sprintf("node %s was not Ready", c.NodeName)
	if c.Init {
		what = "the control plane did not come up"
	}
	return 0, "", fmt.Errorf("%s within %v; it is stopping, see %s:\n%s", what, c.Wait, c.logFile(), tail(c.logFile(), offset, 20))
}

// waitReady waits for the join line the cluster process writes once the
// apiserver serves, then with the admin's kubeconfig for the cluster-info
// signature of its token (the controller-manager runs) and, unless Init,
// for the node. It retries until ctx ends, and then returns ctx.Err();
// another error is one waiting longer cannot mend (an unreadable join
// file or kubeconfig).
func waitReady(ctx context.Context, c Config, since time.Time) (string, error) {
	var line string
	for {
		var err error
		if line, err = readJoinFile(c); err == nil {
			break
		}
		if !errors.Is(err, errNoJoinLine) {
			return "", err
		}
		if !sleep(ctx, retryEvery) {
			return "", ctx.Err()
		}
	}
	kc, err := config.Load(c.AdminKubeconfig(), "")
	if err != nil {
		return "", err
	}
	conn, err := config.Dial(ctx, kc)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	cs := clientset.New(conn)
	if err := waitSigned(ctx, cs, line); err != nil {
		return "", err
	}
	if c.Init {
		return line, nil
	}
	return line, waitNodeReady(ctx, cs.Nodes(), c.NodeName, since)
}

// waitSigned polls the cluster-info ConfigMap until the bootstrap signer
// has signed it for the token of the join line.
func waitSigned(ctx context.Context, cs *clientset.Set, line string) error {
	tok, ok := lineToken(line)
	if !ok {
		return fmt.Errorf("the join command file holds no token: %q", line)
	}
	id := tok.ID
	for {
		cm, err := cs.ConfigMaps().Get(ctx, &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name})
		if err == nil && cm.GetData()[clusterinfo.JWSKey(id)] != "" {
			return nil
		}
		if !sleep(ctx, retryEvery) {
			return ctx.Err()
		}
	}
}

// BackgroundEnv is set in the environment of the process Start starts:
// its standard output is tug.log, where the join line's token secret
// does not belong (this process prints it).
const BackgroundEnv = "TUG_BACKGROUND"

// retryEvery is the pause between attempts while the apiserver starts.
const retryEvery = 50 * time.Millisecond

// waitNodeReady waits until the node is Ready as reported by a kubelet of
// this run: after a crash the stored Node says Ready until the new
// kubelet reports. It watches the Node, and retries until ctx ends, and
// then returns ctx.Err().
func waitNodeReady(ctx context.Context, nodes corev1.NodeServiceClient, name string, since time.Time) error {
	for {
		// Not ready yet when the stream ended or a call failed: again.
		if ready, _ := watchNodeReady(ctx, nodes, name, since); ready {
			return nil
		}
		if !sleep(ctx, retryEvery) {
			return ctx.Err()
		}
	}
}

// watchNodeReady lists the node, then watches it from the list's
// resourceVersion until it is fresh and Ready (true), the stream ends or
// a call fails.
func watchNodeReady(ctx context.Context, nodes corev1.NodeServiceClient, name string, since time.Time) (bool, error) {
	sel := "metadata.name=" + name
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	list, err := nodes.List(lctx, &metav1.ListOptions{FieldSelector: sel})
	cancel()
	if err != nil {
		return false, fmt.Errorf("list node %s: %w", name, err)
	}
	for _, n := range list.GetItems() {
		if nodeReady(n, since) {
			return true, nil
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := nodes.Watch(wctx, &metav1.ListOptions{FieldSelector: sel, ResourceVersion: list.GetMetadata().GetResourceVersion()})
	if err != nil {
		return false, fmt.Errorf("watch node %s: %w", name, err)
	}
	for {
		ev, err := st.Recv()
		if err != nil {
			return false, fmt.Errorf("watch node %s: %w", name, err)
		}
		if ev.GetType() != "DELETED" && nodeReady(ev.GetObject(), since) {
			return true, nil
		}
	}
}

// nodeReady says n is Ready with a heartbeat from since on.
func nodeReady(n *corev1.Node, since time.Time) bool {
	for _, cond := range n.GetStatus().GetConditions() {
		if cond.GetType() == "Ready" {
			fresh := !cond.GetLastHeartbeatTime().AsTime().Before(since.Truncate(time.Second))
			return cond.GetStatus() == "True" && fresh
		}
	}
	return false
}

// sleep waits d, or less when ctx ends first (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
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
