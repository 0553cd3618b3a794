package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// stopTimeout bounds how long the cluster process gets to stop before it
// is killed.
const stopTimeout = 60 * time.Second

// Down stops the cluster process of c's data dir, if one runs, then has
// every component remove what it made on the host (containers, sandboxes
// and their network namespaces, the pod bridge, routes, tables), last
// first. With purge it also deletes the data dir (etcd's data: the
// objects). It works after a crash too: nothing of the process is needed.
func Down(ctx context.Context, c Config, purge bool, log *zap.Logger) (stopped bool, err error) {
	if _, err := os.Stat(c.DataDir); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if pid, ok := Running(c); ok {
		if err := stopProcess(ctx, pid); err != nil {
			return false, err
		}
		stopped = true
	}
	comps := Components()
	slices.Reverse(comps)
	node := c.RunsNode()
	var errs []error
	for _, comp := range comps {
		if comp.Cleanup == nil || (comp.Node && !node) {
			continue
		}
		if err := comp.Cleanup(ctx, c, log.Named(comp.Name)); err != nil {
			errs = append(errs, fmt.Errorf("%s cleanup: %w", comp.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return stopped, err
	}
	// Only once every sandbox is gone: a shim may still hold a container.
	if err := stopOrphanShims(c, log); err != nil {
		return stopped, err
	}
	if purge {
		if err := os.RemoveAll(c.DataDir); err != nil {
			return stopped, fmt.Errorf("remove %s: %w", c.DataDir, err)
		}
	}
	return stopped, nil
}

// stopProcess sends SIGTERM and polls until the process is gone, killing
// it after stopTimeout.
func stopProcess(ctx context.Context, pid int) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop the cluster process %d: %w", pid, err)
	}
	deadline := time.Now().Add(stopTimeout)
	killed := false
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return nil
		}
		if !killed && time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			killed = true
			deadline = time.Now().Add(10 * time.Second)
		} else if killed && time.Now().After(deadline) {
			return fmt.Errorf("the cluster process %d did not exit", pid)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// FileLogger logs to the data dir's tug.log (for tug down's cleanup).
// Without a data dir there is no cluster and nothing to log: it gives a
// logger that drops everything rather than creating the dir.
func FileLogger(c Config) (*zap.Logger, func(), error) {
	if _, err := os.Stat(c.DataDir); errors.Is(err, os.ErrNotExist) {
		return zap.NewNop(), func() {}, nil
	}
	f, err := openAppend(c.logFile())
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	enc := zap.NewDevelopmentEncoderConfig()
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(f), zap.InfoLevel)
	return zap.New(core).Named("down"), func() { f.Close() }, nil
}

// RunsNode says the data dir is a node's (tug up or tug join), not tug
// init's: only then is there anything of the kubelet's or the proxy's to
// remove. The mode file says which (Mode).
func (c Config) RunsNode() bool {
	m := c.Mode()
	return m == ModeUp || m == ModeJoin
}
