// Package cluster is "tug up", "tug init" and "tug down": a one-node
// cluster on this machine in one process (embedded etcd and the
// apiserver, the scheduler, the controller-manager, and for tug up the
// proxy, DNS and the kubelet with a containerd of its own, serving the
// project's image archives), started in the background, and its removal
// with everything it made on the host. It is also kubeadm's init phases:
// the cluster CA and certificates (certs.go) and each component's
// kubeconfig with its own identity (kubeconfigs.go), which the cluster
// runs on: every connection is TLS with a client certificate.
//
// The parts are a list (components.go): the apiserver first, then the
// rest, each through its service's app package exactly as its binary runs
// it, talking gRPC over TLS to the apiserver.
package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the local cluster.
type Config struct {
	// DataDir holds etcd's data, the kubelet's state, the log and the pid file.
	DataDir string
	// ListenAddress is the apiserver's gRPC and REST address.
	ListenAddress string
	// NodeName names the node; KubeletPort serves its logs and exec.
	NodeName    string
	KubeletPort int
	// Images is the directory of OCI image archives (make images).
	Images string
	// Kubeconfig is where the user's kubeconfig is written (merged into
	// an existing file as context ContextName).
	Kubeconfig  string
	ContextName string
	// ContainerdBinary and CNIBinDir locate the runtime's parts.
	ContainerdBinary string
	CNIBinDir        string
	// Wait bounds how long up waits for the node to be Ready (init: for
	// the control plane).
	Wait time.Duration
	// Init runs the control plane alone (tug init): no kubelet, proxy or DNS.
	Init bool
	// AdvertiseAddress is the apiserver's address for other nodes (the
	// join line, cluster-info, the admin kubeconfig); empty: the listen
	// address's, and for one on every address (0.0.0.0, ::) this host's
	// address on the default route (resolveAdvertise).
	AdvertiseAddress string
	// TokenTTL is the lifetime of the bootstrap token each start creates.
	TokenTTL time.Duration
	// OnJoinCommand, when set, gets the join line once the control plane
	// serves (the foreground process prints it).
	OnJoinCommand func(line string)
}

// DefaultConfig returns the defaults the flags show.
func DefaultConfig() Config {
	host, _ := os.Hostname()
	home, _ := os.UserHomeDir()
	images := "bin/images"
	if exe, err := os.Executable(); err == nil {
		images = filepath.Join(filepath.Dir(exe), "images")
	}
	kc := filepath.Join(home, ".kube", "config")
	if env := os.Getenv("KUBECONFIG"); env != "" {
		kc = filepath.SplitList(env)[0]
	}
	return Config{
		DataDir:       "/var/lib/tugboat",
		ListenAddress: "127.0.0.1:6443",
		NodeName:      strings.ToLower(host),
		KubeletPort:   10250,
		Images:        images,
		Kubeconfig:    kc,
		ContextName:   "tugboat",
		CNIBinDir:     "/usr/lib/cni",
		Wait:          2 * time.Minute,
		TokenTTL:      24 * time.Hour,
	}
}

// The files and directories under DataDir.
func (c Config) pidFile() string    { return filepath.Join(c.DataDir, "tug.pid") }
func (c Config) logFile() string    { return filepath.Join(c.DataDir, "tug.log") }
func (c Config) etcdDir() string    { return filepath.Join(c.DataDir, "etcd") }
func (c Config) kubeletDir() string { return filepath.Join(c.DataDir, "kubelet") }
func (c Config) proxyDir() string   { return filepath.Join(c.DataDir, "proxy") }
func (c Config) certDir() string    { return filepath.Join(c.DataDir, "pki") }
func (c Config) auditLog() string   { return filepath.Join(c.DataDir, "audit.log") }
func (c Config) joinFile() string   { return filepath.Join(c.DataDir, "join-command") }

// conf is the kubeconfig file of one identity (Identities), in the data dir.
func (c Config) conf(name string) string { return filepath.Join(c.DataDir, name) }

// AdminKubeconfig is the admin's kubeconfig, <data-dir>/admin.conf.
func (c Config) AdminKubeconfig() string { return c.conf(AdminConf) }
