package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

// JoinConfig is a node joining a cluster (tug join): a kubelet with a
// containerd of its own and the proxy, in one background process under
// DataDir, whose credentials come from a bootstrap token.
//
// Its data dir has the layout of tug up's (tug.pid, tug.log, kubelet/,
// proxy/), so tug down stops and cleans up a joined node as it does a
// local cluster.
type JoinConfig struct {
	// Config gives DataDir, NodeName, KubeletPort, Images,
	// ContainerdBinary, CNIBinDir and Wait; the rest of it is unused.
	Config
	// Endpoint is the apiserver's host:port.
	Endpoint string
	// Token is the bootstrap token, "<id>.<secret>".
	Token string
	// CAHash pins the cluster CA: "sha256:<hex>".
	CAHash string
	// NodeIP is the node's InternalIP, where the apiserver reaches the
	// kubelet; empty: the kubelet's default.
	NodeIP string
}

// DefaultJoinConfig returns the defaults tug join's flags show.
func DefaultJoinConfig() JoinConfig {
	return JoinConfig{Config: DefaultConfig()}
}

// BootstrapKubeconfig is the kubeconfig with the bootstrap token and the
// discovered CA that the kubelet requests its certificate with.
func (j JoinConfig) BootstrapKubeconfig() string {
	return filepath.Join(j.DataDir, "bootstrap-kubeconfig")
}

// KubeletKubeconfig is the node's own kubeconfig (its client certificate),
// written by the kubelet after the TLS bootstrap; the proxy uses it too.
func (j JoinConfig) KubeletKubeconfig() string { return j.conf(KubeletConf) }

// Validate checks the join's arguments before anything is sent: each
// error names the argument or flag that is wrong.
func (j JoinConfig) Validate() (bootstraptoken.Token, error) {
	var errs []error
	if err := validateEndpoint(j.Endpoint); err != nil {
		errs = append(errs, err)
	}
	tok, err := bootstraptoken.Parse(j.Token)
	if err != nil {
		errs = append(errs, fmt.Errorf("--token: %w", err))
	}
	if j.CAHash == "" {
		errs = append(errs, errors.New("--discovery-token-ca-cert-hash is required: the \"sha256:<hex>\" that tug init printed (it pins the cluster CA; joining without it would trust any server)"))
	} else if _, err := pki.ParseHash(j.CAHash); err != nil {
		errs = append(errs, fmt.Errorf("--discovery-token-ca-cert-hash: %w", err))
	}
	errs = append(errs, j.validateNode()...)
	return tok, errors.Join(errs...)
}

// validateNode checks the flags the background process needs too.
func (j JoinConfig) validateNode() []error {
	var errs []error
	if msgs := names.Subdomain(j.NodeName); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--node-name %q: %s", j.NodeName, msgs[0]))
	}
	if j.NodeIP != "" {
		if _, err := netip.ParseAddr(j.NodeIP); err != nil {
			errs = append(errs, fmt.Errorf("--node-ip %q: not an IP address", j.NodeIP))
		}
	}
	if j.KubeletPort < 1 || j.KubeletPort > 65535 {
		errs = append(errs, fmt.Errorf("--kubelet-port %d: must be 1-65535", j.KubeletPort))
	}
	if j.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	return errs
}

// validateEndpoint checks the apiserver's host:port.
func validateEndpoint(endpoint string) error {
	if endpoint == "" {
		return errors.New("the apiserver's address is required: tug join <host>:<port> (as tug init printed it)")
	}
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil || host == "" {
		return fmt.Errorf("apiserver address %q: want <host>:<port>, as tug init printed it", endpoint)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("apiserver address %q: the port must be 1-65535", endpoint)
	}
	return nil
}

// joinPreflight says plainly what stops the node from starting here: a
// cluster or node already running from the data dir, not root, the
// runtime's parts or the images missing, the kubelet's port taken.
func joinPreflight(j JoinConfig) error {
	if pid, ok := Running(j.Config); ok {
		return fmt.Errorf("a Tugboat cluster or node already runs from %s (pid %d); \"tug down --data-dir %s\" stops it", j.DataDir, pid, j.DataDir)
	}
	var errs []error
	if os.Geteuid() != 0 {
		errs = append(errs, errors.New("tug join must run as root: it runs containers (containerd, runc) and sets up the pod network (a bridge, routes); run it with sudo"))
	}
	bin := j.ContainerdBinary
	if bin == "" {
		bin = "containerd"
	}
	for _, b := range []string{bin, "runc"} {
		if _, err := exec.LookPath(b); err != nil {
			errs = append(errs, fmt.Errorf("%s is not installed: install it with \"make deps\" (Debian/Ubuntu: apt-get install containerd runc containernetworking-plugins)", b))
		}
	}
	for _, p := range []string{"bridge", "host-local", "loopback", "portmap"} {
		if _, err := os.Stat(filepath.Join(j.CNIBinDir, p)); err != nil {
			errs = append(errs, fmt.Errorf("the CNI plugin %s is missing from %s: install containernetworking-plugins (\"make deps\") or pass --cni-bin-dir", p, j.CNIBinDir))
			break
		}
	}
	for _, img := range []string{"pause.tar"} {
		if _, err := os.Stat(filepath.Join(j.Images, img)); err != nil {
			errs = append(errs, fmt.Errorf("the image archive %s is missing from %s: build the images with \"make images\" or pass --images DIR", img, j.Images))
		}
	}
	host := j.NodeIP
	if host == "" {
		host = "127.0.0.1"
	}
	switch err := portFree(net.JoinHostPort(host, strconv.Itoa(j.KubeletPort))); {
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		errs = append(errs, fmt.Errorf("--node-ip %s is not an address of this machine: give one of its own, where the apiserver can reach the kubelet", host))
	case err != nil:
		errs = append(errs, fmt.Errorf("port %d, the kubelet's (--kubelet-port), is taken by another program on %s: stop it or choose another port (%v)", j.KubeletPort, host, err))
	}
	return errors.Join(errs...)
}

// LocalIPToward is this host's address on the route to the apiserver at
// endpoint (host:port): the node's default InternalIP, which the
// apiserver can reach back. Nothing is sent (a UDP socket is only
// connected).
func LocalIPToward(endpoint string) (string, error) {
	c, err := net.Dial("udp", endpoint)
	if err != nil {
		return "", fmt.Errorf("find this node's address toward %s (pass --node-ip): %w", endpoint, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}
