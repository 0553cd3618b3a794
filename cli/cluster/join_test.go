package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/component/discovery"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var goodHash = "sha256:" + strings.Repeat("5a", 32)

func TestJoinValidate(t *testing.T) {
	valid := func() JoinConfig {
		j := DefaultJoinConfig()
		j.Endpoint = "169.254.77.1:6443"
		j.Token = "abcdef.0123456789abcdef"
		j.CAHash = goodHash
		j.NodeName = "node-2"
		j.NodeIP = "169.254.77.2"
		return j
	}
	tests := []struct {
		name   string
		change func(*JoinConfig)
		want   []string // each must appear in the error; none: valid
	}{
		{name: "valid", change: func(*JoinConfig) {}},
		{name: "host name endpoint", change: func(j *JoinConfig) { j.Endpoint = "cp.example:6443" }},
		{name: "no endpoint", change: func(j *JoinConfig) { j.Endpoint = "" }, want: []string{"the apiserver's address is required: tug join <host>:<port>"}},
		{name: "endpoint without port", change: func(j *JoinConfig) { j.Endpoint = "169.254.77.1" }, want: []string{`apiserver address "169.254.77.1": want <host>:<port>`}},
		{name: "endpoint port out of range", change: func(j *JoinConfig) { j.Endpoint = "169.254.77.1:70000" }, want: []string{"the port must be 1-65535"}},
		{name: "no token", change: func(j *JoinConfig) { j.Token = "" }, want: []string{"--token: bootstrap token"}},
		{name: "malformed token", change: func(j *JoinConfig) { j.Token = "ABCDEF.0123456789abcdef" }, want: []string{"--token: bootstrap token", "[a-z0-9]{6}.[a-z0-9]{16}"}},
		{name: "no hash", change: func(j *JoinConfig) { j.CAHash = "" }, want: []string{"--discovery-token-ca-cert-hash is required"}},
		{name: "hash without algorithm", change: func(j *JoinConfig) { j.CAHash = strings.TrimPrefix(goodHash, "sha256:") }, want: []string{"--discovery-token-ca-cert-hash: CA hash", `must start with "sha256:"`}},
		{name: "short hash", change: func(j *JoinConfig) { j.CAHash = "sha256:abcd" }, want: []string{"--discovery-token-ca-cert-hash: CA hash \"sha256:abcd\""}},
		{name: "bad node name", change: func(j *JoinConfig) { j.NodeName = "Node_2" }, want: []string{`--node-name "Node_2"`}},
		{name: "bad node ip", change: func(j *JoinConfig) { j.NodeIP = "169.254.77" }, want: []string{`--node-ip "169.254.77": not an IP address`}},
		{name: "bad kubelet port", change: func(j *JoinConfig) { j.KubeletPort = 0 }, want: []string{"--kubelet-port 0: must be 1-65535"}},
		{name: "several at once", change: func(j *JoinConfig) { j.Token = "x"; j.CAHash = "md5:00" }, want: []string{"--token:", "--discovery-token-ca-cert-hash:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := valid()
			tt.change(&j)
			tok, err := j.Validate()
			if len(tt.want) == 0 {
				if err != nil || tok.ID != "abcdef" {
					t.Fatalf("Validate = %v, %v", tok, err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

func TestJoinRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "not signed yet", err: fmt.Errorf("x: %w", discovery.ErrNotSigned), want: true},
		{name: "apiserver unreachable", err: fmt.Errorf("get configmap: %w", status.Error(codes.Unavailable, "connection refused")), want: true},
		{name: "hash mismatch", err: fmt.Errorf("refusing to trust: %w", discovery.ErrHashMismatch)},
		{name: "token refused", err: fmt.Errorf("%w abcdef", discovery.ErrTokenRefused)},
		{name: "wrong token secret", err: errors.New("cluster-info is not signed by token abcdef")},
		{name: "forbidden", err: status.Error(codes.PermissionDenied, "no")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryable(tt.err); got != tt.want {
				t.Fatalf("retryable(%v) = %v", tt.err, got)
			}
		})
	}
}

// TestRunJoinNeedsCredentials: the background process refuses a data dir
// that tug join has not prepared, naming the command to run first.
func TestRunJoinNeedsCredentials(t *testing.T) {
	j := DefaultJoinConfig()
	j.DataDir = t.TempDir()
	err := RunJoin(t.Context(), j, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "join the cluster with tug join <host>:<port> --token") {
		t.Fatalf("RunJoin = %v", err)
	}
	if _, err := os.Stat(filepath.Join(j.DataDir, "tug.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pid file written: %v", err)
	}
}

// TestJoinCheckCredentials: the node runs with its own kubeconfig (a
// restart, the bootstrap kubeconfig deleted) or with the bootstrap one
// (the first run); with neither usable it names the command to run.
func TestJoinCheckCredentials(t *testing.T) {
	const good = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: https://127.0.0.1:1}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
	for _, tt := range []struct {
		name            string
		node, bootstrap string // file contents; "" = none
		want            string // "" = accepted
	}{
		{name: "node kubeconfig alone", node: good},
		{name: "bootstrap alone", bootstrap: good},
		{name: "both", node: good, bootstrap: good},
		{name: "neither", want: "join the cluster with tug join <host>:<port> --token"},
		{name: "unusable node kubeconfig", node: "{{{", want: "is unusable"},
		{name: "unusable node kubeconfig, bootstrap", node: "{{{", bootstrap: good},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := DefaultJoinConfig()
			j.DataDir = t.TempDir()
			for path, content := range map[string]string{j.KubeletKubeconfig(): tt.node, j.BootstrapKubeconfig(): tt.bootstrap} {
				if content != "" {
					if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			err := j.checkCredentials()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("checkCredentials = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestJoinKubeletConfig: the join's kubelet bootstraps from the bootstrap
// kubeconfig into the node's kubeconfig, reports the node IP, takes its
// pod CIDR from the node IPAM, and keeps tug up's layout for tug down.
func TestJoinKubeletConfig(t *testing.T) {
	j := DefaultJoinConfig()
	j.DataDir = t.TempDir()
	j.NodeName = "node-2"
	j.NodeIP = "169.254.77.2"
	// After the join tug join deletes the bootstrap kubeconfig: the
	// kubelet runs on the node's alone.
	cfg := joinKubeletConfig(j)
	if cfg.BootstrapKubeconfig != "" || cfg.Kubeconfig != j.DataDir+"/kubelet.conf" {
		t.Errorf("without a bootstrap kubeconfig: kubeconfigs %q, %q", cfg.BootstrapKubeconfig, cfg.Kubeconfig)
	}
	if err := os.WriteFile(j.BootstrapKubeconfig(), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = joinKubeletConfig(j)
	if cfg.BootstrapKubeconfig != j.DataDir+"/bootstrap-kubeconfig" || cfg.Kubeconfig != j.DataDir+"/kubelet.conf" {
		t.Errorf("kubeconfigs %q, %q", cfg.BootstrapKubeconfig, cfg.Kubeconfig)
	}
	if cfg.NodeIP != "169.254.77.2" || cfg.NodeName != "node-2" || cfg.PodCIDR != "" {
		t.Errorf("node ip %q name %q pod cidr %q", cfg.NodeIP, cfg.NodeName, cfg.PodCIDR)
	}
	if up := kubeletConfig(j.Config); cfg.RootDir != up.RootDir || !cfg.ManagedContainerd {
		t.Errorf("root dir %q, tug up's %q (tug down cleans that one)", cfg.RootDir, up.RootDir)
	}
}

// TestJoinPreflightNodeIP: a --node-ip that is not this machine's and a
// kubelet port in use are told apart.
func TestJoinPreflightNodeIP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name   string
		nodeIP string
		port   int
		want   string
	}{
		{name: "not this machine's", nodeIP: "192.0.2.200", port: 10250, want: "--node-ip 192.0.2.200 is not an address of this machine"},
		{name: "port taken", nodeIP: "127.0.0.1", port: taken, want: fmt.Sprintf("port %d, the kubelet's (--kubelet-port), is taken by another program on 127.0.0.1", taken)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := DefaultJoinConfig()
			j.DataDir = t.TempDir()
			j.NodeIP, j.KubeletPort = tt.nodeIP, tt.port
			if err := joinPreflight(j); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("joinPreflight = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLocalIPToward(t *testing.T) {
	ip, err := LocalIPToward("127.0.0.1:6443")
	if err != nil || ip != "127.0.0.1" {
		t.Fatalf("LocalIPToward(127.0.0.1:6443) = %q, %v", ip, err)
	}
	if _, err := LocalIPToward("no-port"); err == nil || !strings.Contains(err.Error(), "(pass --node-ip)") {
		t.Fatalf("LocalIPToward(no-port) = %v", err)
	}
}
