package main

import (
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		sigs    []os.Signal
		wantLog string
	}{
		{"SIGTERM", []os.Signal{syscall.SIGTERM}, "got signal: terminated"},
		{"SIGINT", []os.Signal{syscall.SIGINT}, "got signal: interrupt"},
		{"SIGCHLD then SIGTERM", []os.Signal{syscall.SIGCHLD, syscall.SIGCHLD, syscall.SIGTERM}, "terminated"},
		{"channel closed", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := make(chan os.Signal, len(tt.sigs))
			for _, s := range tt.sigs {
				sigs <- s
			}
			close(sigs)
			var log strings.Builder
			if code := run(sigs, &log); code != 0 {
				t.Errorf("exit code = %d, want 0", code)
			}
			if !strings.Contains(log.String(), tt.wantLog) {
				t.Errorf("log = %q, want it to contain %q", log.String(), tt.wantLog)
			}
		})
	}
}

// TestReap starts a child that exits at once and checks that reap collects
// it, so it does not stay a zombie.
func TestReap(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary with a pattern that matches no test exits at once.
	p, err := os.StartProcess(exe, []string{exe, "-test.run=^$"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if slices.Contains(reap(), p.Pid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d was not reaped", p.Pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
