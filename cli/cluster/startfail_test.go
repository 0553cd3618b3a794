package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes this test binary, started by Start as "the cluster
// process", play one that writes an unreadable join file and lingers.
const helperEnv = "TUG_TEST_START_HELPER"

// TestStartHelperProcess is the process TestStartReportsAFailedWait
// starts; run alone it does nothing.
func TestStartHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		return
	}
	if os.Getenv(BackgroundEnv) == "1" {
		// tug up/init: a directory where the join file belongs, so
		// reading it fails.
		if err := os.Mkdir(filepath.Join(dir, "join-command"), 0o700); err != nil {
			os.Exit(3)
		}
	} else {
		// tug join: a node kubeconfig no one can dial (not https).
		const kc = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: ftp://127.0.0.1:1}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
		if err := os.WriteFile(filepath.Join(dir, KubeletConf), []byte(kc), 0o600); err != nil {
			os.Exit(3)
		}
	}
	time.Sleep(30 * time.Second)
	os.Exit(4)
}

// TestStartReportsAFailedWait: when waiting for the cluster fails for a
// reason other than the deadline, Start says why at once (not "did not
// come up within") and stops the process.
func TestStartReportsAFailedWait(t *testing.T) {
	c := DefaultConfig()
	c.Init = true
	c.DataDir = t.TempDir()
	c.ListenAddress = freeAddr(t)
	c.Wait = 40 * time.Second
	t.Setenv(helperEnv, c.DataDir)
	begin := time.Now()
	_, _, err := Start(t.Context(), c, []string{"-test.run=^TestStartHelperProcess$"})
	if err == nil || !strings.Contains(err.Error(), "waiting for the cluster failed: join command file:") || strings.Contains(err.Error(), "within") {
		t.Fatalf("Start = %v, want the join file's read error", err)
	}
	if took := time.Since(begin); took > 20*time.Second {
		t.Fatalf("Start took %v: it waited for the deadline", took)
	}
	helperStopped(t)
}

// TestStartJoinedReportsAFailedWait: StartJoined says at once why its
// wait failed when it is not the deadline, and stops the process.
func TestStartJoinedReportsAFailedWait(t *testing.T) {
	j := DefaultJoinConfig()
	j.DataDir = t.TempDir()
	j.NodeName = "helper"
	j.Wait = 40 * time.Second
	t.Setenv(helperEnv, j.DataDir)
	begin := time.Now()
	_, err := StartJoined(t.Context(), j, []string{"-test.run=^TestStartHelperProcess$"})
	if err == nil || !strings.Contains(err.Error(), "waiting for node helper failed:") || strings.Contains(err.Error(), "within") {
		t.Fatalf("StartJoined = %v, want the dial's error", err)
	}
	if took := time.Since(begin); took > 20*time.Second {
		t.Fatalf("StartJoined took %v: it waited for the deadline", took)
	}
	helperStopped(t)
}

// helperStopped waits until no helper process is left (they got SIGTERM).
func helperStopped(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, perr := processes(func(_ string, cmdline []byte) bool {
			return strings.Contains(string(cmdline), "-test.run=^TestStartHelperProcess$") && !strings.Contains(string(cmdline), "-test.run=^TestStartReports")
		})
		if perr != nil {
			t.Fatal(perr)
		}
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, p := range pids {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
			t.Fatalf("the cluster process %v was not stopped", pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
