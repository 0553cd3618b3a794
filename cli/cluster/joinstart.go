package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/discovery"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Join is tug join up to the background process: it checks the arguments
// (nothing is sent when one is wrong), runs token discovery (retrying
// while the cluster has not signed cluster-info for the token yet or is
// unreachable; a CA that does not match the hash or a token the cluster
// refuses fails at once), writes the bootstrap kubeconfig with the token
// and the one verified CA, and returns the discovery result.
func Join(ctx context.Context, j JoinConfig) (*discovery.Result, error) {
	tok, err := j.Validate()
	if err != nil {
		return nil, err
	}
	if err := joinPreflight(j); err != nil {
		return nil, err
	}
	return prepareJoin(ctx, j, tok)
}

// prepareJoin is Join after the checks of this machine: discovery and the
// bootstrap kubeconfig. opts are extra dial options (tests watch what is
// sent).
func prepareJoin(ctx context.Context, j JoinConfig, tok bootstraptoken.Token, opts ...grpc.DialOption) (*discovery.Result, error) {
	if err := checkDataDir(j.DataDir); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, j.Wait)
	defer cancel()
	res, err := discover(ctx, j.Endpoint, tok, j.CAHash, opts)
	if err != nil {
		return nil, err
	}
	// A token still signed for may have expired a moment ago: ask the
	// verified apiserver before the kubelet starts with it.
	if err := res.CheckToken(ctx, j.Endpoint, tok, opts...); err != nil {
		return nil, err
	}
	if err := ensureDataDir(j.DataDir); err != nil {
		return nil, err
	}
	cfg := res.Config(j.Endpoint, tok)
	if err := config.Write(j.BootstrapKubeconfig(), config.KubeconfigSpec{ContextName: "tugboat-bootstrap", Server: cfg.Server, CAData: cfg.CAData, Token: cfg.Token}); err != nil {
		return nil, fmt.Errorf("bootstrap kubeconfig: %w", err)
	}
	// A node's kubeconfig from an earlier join would be used instead of
	// the new token: a join always gets a fresh certificate.
	if err := os.Remove(j.KubeletKubeconfig()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove the earlier node kubeconfig: %w", err)
	}
	return res, nil
}

// discoverRetry is the pause between discovery attempts.
const discoverRetry = time.Second

// discover retries token discovery while it may still succeed.
func discover(ctx context.Context, endpoint string, tok bootstraptoken.Token, caHash string, opts []grpc.DialOption) (*discovery.Result, error) {
	for {
		res, err := discovery.Discover(ctx, endpoint, tok, caHash, opts...)
		if err == nil {
			return res, nil
		}
		if !retryable(err) {
			return nil, err
		}
		if !sleep(ctx, discoverRetry) {
			return nil, fmt.Errorf("discovery did not succeed within the --wait: %w", err)
		}
	}
}

// retryable says whether discovery may succeed later: cluster-info not
// signed for an accepted token yet, or the apiserver not reachable yet.
func retryable(err error) bool {
	if errors.Is(err, discovery.ErrNotSigned) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}

// StartJoined runs "tug <args>" (join --foreground with the node's flags,
// without the token) in the background as tug up does, and waits until
// the Node is Ready, watched with the node's own credentials. It returns
// how long that took, or why the node did not come up (with the log's end).
func StartJoined(ctx context.Context, j JoinConfig, args []string) (time.Duration, error) {
	begin := time.Now()
	logf, err := openAppend(j.logFile())
	if err != nil {
		return 0, fmt.Errorf("log file: %w", err)
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, io.SeekEnd)
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("find tug's own binary: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start the node process: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(ctx, j.Wait)
	defer cancel()
	ready := make(chan error, 1)
	go func() { ready <- waitJoinedReady(ctx, j, begin) }()
	select {
	case err := <-ready:
		if err == nil {
			_ = cmd.Process.Release()
			return time.Since(begin), nil
		}
		if ctx.Err() == nil {
			// Not the deadline: something the wait cannot get past.
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return 0, fmt.Errorf("waiting for node %s failed: %w; it is stopping, see %s:\n%s", j.NodeName, err, j.logFile(), tail(j.logFile(), offset, 20))
		}
	case err := <-exited:
		return 0, fmt.Errorf("the node process exited (%v); the end of %s:\n%s", err, j.logFile(), tail(j.logFile(), offset, 20))
	case <-ctx.Done():
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	return 0, fmt.Errorf("node %s was not Ready within %v; it is stopping, see %s:\n%s", j.NodeName, j.Wait, j.logFile(), tail(j.logFile(), offset, 20))
}

// waitJoinedReady waits for the node's kubeconfig (the kubelet writes it
// once its certificate is issued), then watches the Node with it until a
// kubelet of this run reports it Ready, and then deletes the bootstrap
// kubeconfig as kubeadm does: the shared token does not stay on the node.
// It returns ctx.Err() when ctx ends.
func waitJoinedReady(ctx context.Context, j JoinConfig, since time.Time) error {
	if err := waitKubeconfig(ctx, j.KubeletKubeconfig()); err != nil {
		return err
	}
	kc, err := config.Load(j.KubeletKubeconfig(), "")
	if err != nil {
		return err
	}
	conn, err := config.Dial(ctx, kc)
	if err != nil {
		return err
	}
	defer conn.Close()
	nodes := clientset.New(conn).Nodes()
	for {
		if ready, _ := watchNodeReady(ctx, nodes, j.NodeName, since); ready {
			if err := os.Remove(j.BootstrapKubeconfig()); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove the bootstrap kubeconfig: %w", err)
			}
			return nil
		}
		if !sleep(ctx, retryEvery) {
			return ctx.Err()
		}
	}
}
