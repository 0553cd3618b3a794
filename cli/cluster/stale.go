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

	"go.uber.org/zap"
)

// stopStaleContainerd stops a containerd left running under the data dir
// by a cluster process that was killed (its containerd gets SIGTERM when
// the process dies, but may still be shutting down, holding its database,
// when tug up runs again). Containers keep running in their shims and are
// adopted by the new kubelet.
func stopStaleContainerd(c Config) error {
	dir := []byte(filepath.Join(c.kubeletDir(), "containerd") + "/")
	pids, err := processes(func(name string, cmdline []byte) bool { return name == "containerd" && bytes.Contains(cmdline, dir) })
	if err != nil {
		return err
	}
	stop(pids)
	return nil
}

// stopOrphanShims stops the containerd shims still attached to the
// cluster's containerd once every sandbox is removed: a shim whose task
// was deleted normally exits by itself, but one can outlive its
// containerd's shutdown, holding nothing but itself.
func stopOrphanShims(c Config, log *zap.Logger) error {
	sock := []byte(filepath.Join(c.kubeletDir(), "containerd") + "/")
	match := func(name string, cmdline []byte) bool {
		return bytes.HasPrefix([]byte(name), []byte("containerd-shim")) && bytes.Contains(cmdline, sock)
	}
	// Most leave by themselves within moments.
	deadline := time.Now().Add(3 * time.Second)
	for {
		pids, err := processes(match)
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			log.Warn("containerd shims outlived their sandboxes; stopping them", zap.Ints("pids", pids))
			stop(pids)
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM to pids and waits until they are gone, killing
// those left after ten seconds.
func stop(pids []int) {
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
}

// processes lists the processes (not this one) whose executable's base
// name and command line match.
func processes(match func(name string, cmdline []byte) bool) ([]int, error) {
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
		if len(args) < 2 || !match(filepath.Base(string(args[0])), cmdline) {
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
