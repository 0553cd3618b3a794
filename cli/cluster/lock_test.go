package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// A second Run on a data dir that is locked fails at once, naming the
// data dir, and leaves the first run's pid file as it was.
func TestSecondRunOnALockedDataDirStopsBeforeTouchingIt(t *testing.T) {
	c := Config{DataDir: t.TempDir(), ListenAddress: "127.0.0.1:0"}
	unlock, err := lockDataDir(c)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := os.WriteFile(c.pidFile(), []byte("424242\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), c, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "a cluster already runs from "+c.DataDir) {
		t.Fatalf("second Run: %v", err)
	}
	if b, err := os.ReadFile(c.pidFile()); err != nil || string(b) != "424242\n" {
		t.Errorf("pid file after the refused Run: %q, %v", b, err)
	}
	unlock()
	again, err := lockDataDir(c)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again()
}

// tug down's logger does not create a data dir that is not there.
func TestFileLoggerLeavesAMissingDataDirAlone(t *testing.T) {
	c := Config{DataDir: filepath.Join(t.TempDir(), "none")}
	log, closeLog, err := FileLogger(c)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("nothing")
	closeLog()
	if _, err := os.Stat(c.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir after FileLogger: %v", err)
	}
}
