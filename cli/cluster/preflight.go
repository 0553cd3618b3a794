package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Preflight says plainly what stops the cluster from starting here: not
// root, containerd, runc or the CNI plugins missing, the images not
// built, a port taken, or a cluster already running. For tug init (no
// node) only the last two.
func Preflight(c Config) error {
	if pid, ok := Running(c); ok {
		return fmt.Errorf("a Tugboat cluster is already running here (pid %d, data in %s); \"tug down\" stops it", pid, c.DataDir)
	}
	if c.Init {
		if err := portFree(c.ListenAddress); err != nil {
			return fmt.Errorf("port %s, the apiserver's (--listen-address), is taken by another program: stop it or choose another port (%v)", c.ListenAddress, err)
		}
		return nil
	}
	var errs []error
	if os.Geteuid() != 0 {
		errs = append(errs, errors.New("tug up must run as root: it runs containers (containerd, runc) and sets up the pod network (a bridge, routes); run it with sudo"))
	}
	bin := c.ContainerdBinary
	if bin == "" {
		bin = "containerd"
	}
	if _, err := exec.LookPath(bin); err != nil {
		errs = append(errs, fmt.Errorf("containerd is not installed (%s not found): install it with \"make deps\" (Debian/Ubuntu: apt-get install containerd runc containernetworking-plugins)", bin))
	}
	if _, err := exec.LookPath("runc"); err != nil {
		errs = append(errs, errors.New("runc is not installed: install it with \"make deps\" (Debian/Ubuntu: apt-get install runc)"))
	}
	for _, p := range []string{"bridge", "host-local", "loopback", "portmap"} {
		if _, err := os.Stat(filepath.Join(c.CNIBinDir, p)); err != nil {
			errs = append(errs, fmt.Errorf("the CNI plugin %s is missing from %s: install containernetworking-plugins (\"make deps\") or pass --cni-bin-dir", p, c.CNIBinDir))
			break
		}
	}
	for _, img := range []string{"pause.tar", "sise.tar", "shell.tar"} {
		if _, err := os.Stat(filepath.Join(c.Images, img)); err != nil {
			errs = append(errs, fmt.Errorf("the image archive %s is missing from %s: build the images with \"make images\" or pass --images DIR", img, c.Images))
			break
		}
	}
	for _, a := range []struct{ what, addr string }{
		{"the apiserver's (--listen-address)", c.ListenAddress},
		{"the kubelet's (--kubelet-port)", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.KubeletPort))},
	} {
		if err := portFree(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("port %s, %s, is taken by another program: stop it or choose another port (%v)", a.addr, a.what, err))
		}
	}
	return errors.Join(errs...)
}

func portFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return errors.New("address in use")
		}
		return err
	}
	return l.Close()
}

// Running returns the pid of the cluster process of c's data dir, when
// one is alive.
func Running(c Config) (int, bool) {
	b, err := os.ReadFile(c.pidFile())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	// The pid must still be a tug up process, not a reused number.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "--foreground") {
		return 0, false
	}
	return pid, true
}
