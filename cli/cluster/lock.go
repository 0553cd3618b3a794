package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes an exclusive lock on the data dir's tug.lock for as
// long as this process runs the cluster, so a second tug up on the same
// data dir (two racing at once, or one after a check that raced) stops
// before it touches the first one's containerd or pid file. The kernel
// drops the lock when the process dies, so a crash leaves nothing stale.
func lockDataDir(c Config) (unlock func(), err error) {
	path := filepath.Join(c.DataDir, "tug.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			msg := fmt.Sprintf("a cluster already runs from %s", c.DataDir)
			if pid, ok := Running(c); ok {
				msg += fmt.Sprintf(" (pid %d)", pid)
			}
			return nil, errors.New(msg + "; tug down stops it")
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
