package node

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"golang.org/x/sys/unix"
)

// MaxPods is the pods capacity of every node, as Kubernetes' default.
const MaxPods = "110"

// HostCapacity reads the host's cpus and memory.
func HostCapacity() (map[string]string, error) {
	mem, err := memTotalKi()
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"cpu":    strconv.Itoa(runtime.NumCPU()),
		"memory": strconv.FormatInt(mem, 10) + "Ki",
		"pods":   MaxPods,
	}, nil
}

func memTotalKi() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("read memory size: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			return strconv.ParseInt(fields[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("read memory size: no MemTotal in /proc/meminfo")
}

// HostInfo describes this host for node.status.nodeInfo.
func HostInfo(runtimeVersion, kubeletVersion string) *corev1.NodeSystemInfo {
	info := &corev1.NodeSystemInfo{
		MachineId:               readTrim("/etc/machine-id"),
		BootId:                  readTrim("/proc/sys/kernel/random/boot_id"),
		SystemUuid:              readTrim("/sys/class/dmi/id/product_uuid"),
		OsImage:                 osImage(),
		ContainerRuntimeVersion: runtimeVersion,
		KubeletVersion:          kubeletVersion,
		KubeProxyVersion:        kubeletVersion,
		OperatingSystem:         runtime.GOOS,
		Architecture:            runtime.GOARCH,
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		info.KernelVersion = string(bytes.TrimRight(u.Release[:], "\x00"))
	}
	return info
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// osImage is PRETTY_NAME from os-release ("Debian GNU/Linux 12 (bookworm)").
func osImage() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return runtime.GOOS
}
