package cluster

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
)

func TestMergeKeepsOtherContexts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kube", "config")
	// A missing file is created, with the cluster's CA and the user's
	// client certificate.
	first := config.KubeconfigSpec{Server: "https://127.0.0.1:6443", CAData: []byte("ca-1"), CertData: []byte("cert-1"), KeyData: []byte("key-1")}
	if err := Merge(path, "tugboat", first); err != nil {
		t.Fatal(err)
	}
	f, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Clusters) != 1 || string(f.Clusters[0].Cluster.CertificateAuthorityData) != "ca-1" || f.Clusters[0].Cluster.Server != first.Server {
		t.Fatalf("new file's clusters: %+v", f.Clusters)
	}
	if len(f.Users) != 1 || string(f.Users[0].User.ClientCertificateData) != "cert-1" || string(f.Users[0].User.ClientKeyData) != "key-1" {
		t.Fatalf("new file's users: %+v", f.Users)
	}
	if f.CurrentContext != "tugboat" {
		t.Fatalf("new file's current context %q", f.CurrentContext)
	}
	// Another cluster's context survives a merge; ours is replaced, not doubled.
	other := "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: https://prod:6443}\nusers:\n- name: admin\n  user: {token: secret}\ncontexts:\n- name: prod\n  context: {cluster: prod, user: admin}\n- name: tugboat\n  context: {cluster: tugboat, user: tugboat}\ncurrent-context: prod\n"
	if err := os.WriteFile(path, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Merge(path, "tugboat", config.KubeconfigSpec{Server: "https://127.0.0.1:7443", CAData: []byte("ca-2"), CertData: []byte("cert-2"), KeyData: []byte("key-2")}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, "")
	if err != nil || cfg.Server != "https://127.0.0.1:7443" || cfg.ContextName != "tugboat" || string(cfg.CAData) != "ca-2" || string(cfg.CertData) != "cert-2" {
		t.Fatalf("merged current context: %+v, %v", cfg, err)
	}
	prod, err := config.Load(path, "prod")
	if err != nil || prod.Server != "https://prod:6443" || prod.Token != "secret" {
		t.Fatalf("the prod context after the merge: %+v, %v", prod, err)
	}
	f, err = config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Contexts) != 2 || len(f.Clusters) != 2 || len(f.Users) != 2 {
		t.Errorf("merge doubled or dropped entries: %d contexts, %d clusters, %d users", len(f.Contexts), len(f.Clusters), len(f.Users))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestComponentsStartWithTheAPIServer(t *testing.T) {
	comps := Components()
	if comps[0].Name != "apiserver" || !comps[0].First {
		t.Fatalf("the apiserver must come first and be waited for: %+v", comps[0])
	}
	names := map[string]bool{}
	for _, c := range comps {
		if names[c.Name] || c.Run == nil {
			t.Errorf("component %q is doubled or has no Run", c.Name)
		}
		names[c.Name] = true
	}
	for _, want := range []string{"scheduler", "controller-manager", "kubelet"} {
		if !names[want] {
			t.Errorf("components %v lack the %s", names, want)
		}
	}
	// tug init runs the control plane alone.
	c := DefaultConfig()
	c.Init = true
	var got []string
	for _, comp := range c.components() {
		got = append(got, comp.Name)
	}
	if want := []string{"apiserver", "scheduler", "controller-manager"}; !slices.Equal(got, want) {
		t.Errorf("tug init runs %v, want %v", got, want)
	}
}

func TestPreflightInitNeedsNoNode(t *testing.T) {
	c := DefaultConfig()
	c.Init = true
	c.DataDir = t.TempDir()
	c.Images = t.TempDir()
	c.CNIBinDir = t.TempDir()
	c.ContainerdBinary = "/nonexistent/containerd"
	c.ListenAddress = "127.0.0.1:0"
	if err := Preflight(c); err != nil {
		t.Errorf("tug init's preflight asks for a node's parts: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c.ListenAddress = l.Addr().String()
	if err := Preflight(c); err == nil || !strings.Contains(err.Error(), "port "+c.ListenAddress+", the apiserver's (--listen-address), is taken") {
		t.Errorf("a taken apiserver port: %v", err)
	}
}

func TestPreflightNamesWhatIsMissing(t *testing.T) {
	c := DefaultConfig()
	c.DataDir = t.TempDir()
	c.Images = t.TempDir()
	c.CNIBinDir = t.TempDir()
	c.ContainerdBinary = "/nonexistent/containerd"
	c.ListenAddress = "127.0.0.1:0"
	c.KubeletPort = 0
	err := Preflight(c)
	if err == nil {
		t.Fatal("Preflight passed with nothing installed")
	}
	for _, want := range []string{
		"containerd is not installed (/nonexistent/containerd not found)",
		"the CNI plugin bridge is missing from " + c.CNIBinDir,
		"the image archive pause.tar is missing from " + c.Images + `: build the images with "make images"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("preflight error lacks %q:\n%v", want, err)
		}
	}
	if os.Geteuid() != 0 && !strings.Contains(err.Error(), "tug up must run as root") {
		t.Errorf("not root, but the error does not say so:\n%v", err)
	}
	// A pid file of a process that is not tug up does not block a start.
	if err := os.WriteFile(c.pidFile(), []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if pid, ok := Running(c); ok {
		t.Errorf("pid 1 taken for a running cluster (%d)", pid)
	}
}

func TestStopFindsAndEndsProcesses(t *testing.T) {
	// A duration no other sleep has; sleep forks nothing that could match too.
	marker := "600." + strconv.Itoa(os.Getpid())
	cmd := exec.Command("sleep", marker)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	pids, err := processes(func(name string, cmdline []byte) bool {
		return name == "sleep" && strings.Contains(string(cmdline), marker)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) != 1 || pids[0] != cmd.Process.Pid {
		t.Fatalf("processes found %v, want [%d]", pids, cmd.Process.Pid)
	}
	go stop(pids)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the process was not stopped")
	}
}
