package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// stopStaleContainerd stops a containerd left running under the data dir
// by a cluster process that was killed (its containerd gets SIGTERM when
// the process dies, but may still be shutting down, holding its database,
// when tug up runs again). Containers keep running in their shims and are
// adopted by the new kubelet.
func stopStaleContainerd(c Config) error {
	dir := filepath.Join(c.kubeletDir(), "containerd") + "/"
	pids, err := processesWith([]byte(dir))
	if err != nil {
		return err
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				deadline = time.Now().Add(5 * time.Second)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// processesWith lists the containerd processes (not their shims) whose
// command line mentions dir.
func processesWith(dir []byte) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
		if len(args) < 3 || filepath.Base(string(args[0])) != "containerd" || !bytes.Contains(cmdline, dir) {
			continue
		}
		out = append(out, pid)
	}
	return out, nil
}

// alive says whether pid exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
