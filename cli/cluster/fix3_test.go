package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	"go.uber.org/zap"
)

// TestCreateDataDirRechecks: a data dir that appears, group-writable,
// between the first check and the creation is refused by the check after
// it, and a fresh one is made 0700.
func TestCreateDataDirRechecks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := checkDataDir(dir); err != nil {
		t.Fatalf("checkDataDir(missing) = %v", err)
	}
	// Someone else's mkdir wins the race.
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o770); err != nil {
		t.Fatal(err)
	}
	if err := createDataDir(dir); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("createDataDir(group-writable) = %v, want refused", err)
	}
	if err := ensureDataDir(dir); err == nil {
		t.Fatal("ensureDataDir(group-writable) accepted it")
	}
	fresh := filepath.Join(t.TempDir(), "a", "data")
	if err := ensureDataDir(fresh); err != nil {
		t.Fatalf("ensureDataDir(fresh) = %v", err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("fresh data dir: %v, %v; want mode 0700", fi, err)
	}
	if err := ensureDataDir(fresh); err != nil {
		t.Fatalf("ensureDataDir(existing private) = %v", err)
	}
}

// TestOpenAppendRefusesSymlink: tug.log is not written through a symlink
// planted in its place.
func TestOpenAppendRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "tug.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if f, err := openAppend(link); err == nil {
		f.Close()
		t.Fatal("openAppend followed a symlink")
	}
	f, err := openAppend(filepath.Join(dir, "plain.log"))
	if err != nil {
		t.Fatalf("openAppend(plain) = %v", err)
	}
	f.Close()
}

// TestReusable: a token is reused only with enough life left (10 minutes,
// or half the asked TTL when shorter) and when the asked TTL is no
// longer than its own.
func TestReusable(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name             string
		created, expires time.Time
		ttl              time.Duration
		want             bool
	}{
		{name: "fresh, same ttl", created: now.Add(-time.Minute), expires: now.Add(59 * time.Minute), ttl: time.Hour, want: true},
		{name: "seconds left", created: now.Add(-time.Hour), expires: now.Add(30 * time.Second), ttl: time.Hour},
		{name: "nine minutes left", created: now.Add(-51 * time.Minute), expires: now.Add(9 * time.Minute), ttl: time.Hour},
		{name: "ten minutes left", created: now.Add(-50 * time.Minute), expires: now.Add(10 * time.Minute), ttl: time.Hour, want: true},
		{name: "short ttl, half left", created: now.Add(-5 * time.Minute), expires: now.Add(5 * time.Minute), ttl: 10 * time.Minute, want: true},
		{name: "short ttl, under half left", created: now.Add(-6 * time.Minute), expires: now.Add(4 * time.Minute), ttl: 10 * time.Minute},
		{name: "longer ttl asked", created: now.Add(-time.Minute), expires: now.Add(59 * time.Minute), ttl: 2 * time.Hour},
		{name: "shorter ttl asked", created: now.Add(-time.Minute), expires: now.Add(59 * time.Minute), ttl: 30 * time.Minute, want: true},
		{name: "never asked, old expires", created: now.Add(-time.Minute), expires: now.Add(59 * time.Minute), ttl: 0},
		{name: "old never expires", created: now.Add(-time.Hour), ttl: time.Hour, want: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := reusable(tt.expires, tt.created, tt.ttl, now); got != tt.want {
				t.Fatalf("reusable = %v, want %v", got, tt.want)
			}
		})
	}
}

const testKubeconfig = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: https://127.0.0.1:1}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"

// TestDropBootstrapKubeconfig: the node process deletes the bootstrap
// kubeconfig once the node's kubeconfig is usable, not before, and leaves
// it when it stops first.
func TestDropBootstrapKubeconfig(t *testing.T) {
	j := DefaultJoinConfig()
	j.DataDir = t.TempDir()
	if err := os.WriteFile(j.BootstrapKubeconfig(), []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	// Stopped before the kubelet wrote anything: left in place.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := dropBootstrapKubeconfig(ctx, j, zap.NewNop()); err != nil {
		t.Fatalf("dropBootstrapKubeconfig(stopped) = %v", err)
	}
	if _, err := os.Stat(j.BootstrapKubeconfig()); err != nil {
		t.Fatalf("bootstrap kubeconfig gone though the node's was never written: %v", err)
	}
	// A half-written node kubeconfig is not usable: still kept.
	if err := os.WriteFile(j.KubeletKubeconfig(), []byte("{{{"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- dropBootstrapKubeconfig(t.Context(), j, zap.NewNop()) }()
	select {
	case err := <-done:
		t.Fatalf("dropBootstrapKubeconfig returned %v before the node's kubeconfig was usable", err)
	default:
	}
	if _, err := os.Stat(j.BootstrapKubeconfig()); err != nil {
		t.Fatalf("bootstrap kubeconfig gone with an unusable node kubeconfig: %v", err)
	}
	if err := pki.WriteFile(j.KubeletKubeconfig(), []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dropBootstrapKubeconfig = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the bootstrap kubeconfig was not removed within 10s of the node's kubeconfig")
	}
	if _, err := os.Stat(j.BootstrapKubeconfig()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("bootstrap kubeconfig still there: %v", err)
	}
	// Already gone (a restart): nothing to do.
	if err := dropBootstrapKubeconfig(t.Context(), j, zap.NewNop()); err != nil {
		t.Fatalf("dropBootstrapKubeconfig(gone) = %v", err)
	}
}
