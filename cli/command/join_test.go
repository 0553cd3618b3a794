package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJoinRefusesBadArguments: each malformed argument is refused with a
// non-zero exit and an error naming it, before anything is sent or
// written.
func TestJoinRefusesBadArguments(t *testing.T) {
	hash := "sha256:" + strings.Repeat("5a", 32)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no address", args: []string{"--token", "abcdef.0123456789abcdef", "--discovery-token-ca-cert-hash", hash}, want: "the apiserver's address is required"},
		{name: "two addresses", args: []string{"127.0.0.1:1", "127.0.0.1:2"}, want: "accepts at most 1 arg"},
		{name: "bad address", args: []string{"127.0.0.1", "--token", "abcdef.0123456789abcdef", "--discovery-token-ca-cert-hash", hash}, want: `apiserver address "127.0.0.1": want <host>:<port>`},
		{name: "bad token", args: []string{"127.0.0.1:6443", "--token", "abcdef", "--discovery-token-ca-cert-hash", hash}, want: "--token: bootstrap token"},
		{name: "no hash", args: []string{"127.0.0.1:6443", "--token", "abcdef.0123456789abcdef"}, want: "--discovery-token-ca-cert-hash is required"},
		{name: "bad hash", args: []string{"127.0.0.1:6443", "--token", "abcdef.0123456789abcdef", "--discovery-token-ca-cert-hash", "sha1:00"}, want: `--discovery-token-ca-cert-hash: CA hash "sha1:00": must start with "sha256:"`},
		{name: "bad node ip", args: []string{"127.0.0.1:6443", "--token", "abcdef.0123456789abcdef", "--discovery-token-ca-cert-hash", hash, "--node-ip", "x"}, want: `--node-ip "x": not an IP address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			r := tug(t, append([]string{"join", "--data-dir", dir}, tt.args...)...)
			if r.code == 0 || !strings.Contains(r.err, tt.want) {
				t.Fatalf("exit %d, stderr %q, want %q", r.code, r.err, tt.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("the data dir was made: %v", err)
			}
		})
	}
}
