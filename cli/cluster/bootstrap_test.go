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
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"go.uber.org/zap"
)

// TestReadJoinFile: a missing or empty join file is "not yet"; a written
// one gives its line.
func TestReadJoinFile(t *testing.T) {
	for _, tt := range []struct {
		name    string
		content *string // nil: no file
		want    string
		wantErr error
	}{
		{name: "missing", wantErr: errNoJoinLine},
		{name: "empty", content: ptr(""), wantErr: errNoJoinLine},
		{name: "blank", content: ptr("\n"), wantErr: errNoJoinLine},
		{name: "written", content: ptr("tug join 127.0.0.1:6443 --token x\n"), want: "tug join 127.0.0.1:6443 --token x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.DataDir = t.TempDir()
			if tt.content != nil {
				if err := os.WriteFile(c.joinFile(), []byte(*tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := readJoinFile(c)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Fatalf("readJoinFile = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestWriteAtomic: the file is whole with its mode, and no temporary file
// is left beside it.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "join-command")
	for _, content := range []string{"first\n", "second\n"} {
		if err := pki.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != content {
			t.Fatalf("read %q, %v; want %q", b, err, content)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("dir holds %v, want the file alone", entries)
	}
}

// TestPreviousToken: the last run's token comes from the join file, or
// from the one Start moved aside.
func TestPreviousToken(t *testing.T) {
	tok, err := bootstraptoken.Generate()
	if err != nil {
		t.Fatal(err)
	}
	line := "tug join 127.0.0.1:6443 --token " + tok.String() + " --discovery-token-ca-cert-hash sha256:" + strings.Repeat("a", 64)
	for _, tt := range []struct {
		name, file, content string
		want                bool
	}{
		{name: "join file", file: "join-command", content: line, want: true},
		{name: "moved aside", file: "join-command.prev", content: line, want: true},
		{name: "no token", file: "join-command", content: "tug join 127.0.0.1:6443"},
		{name: "bad token", file: "join-command", content: "tug join 127.0.0.1:6443 --token nope"},
		{name: "none"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.DataDir = t.TempDir()
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(c.DataDir, tt.file), []byte(tt.content+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := previousToken(c)
			if ok != tt.want || (ok && got != tok) {
				t.Fatalf("previousToken = %v, %v; want %v, %v", got, ok, tok, tt.want)
			}
		})
	}
}

// TestRestartReusesToken: a restart of tug init on the same data dir
// prints the token of the last run while its Secret exists and lives
// long enough, and a new one once it is gone, has only seconds left, or
// a longer --token-ttl is asked for.
func TestRestartReusesToken(t *testing.T) {
	dir := t.TempDir()
	c := DefaultConfig()
	c.Init = true
	c.DataDir = filepath.Join(dir, "data")
	c.Kubeconfig = filepath.Join(dir, "kube", "config")
	c.ListenAddress = freeAddr(t)
	c.TokenTTL = time.Hour
	// start runs the control plane until the returned stop, and returns
	// the token of its join line.
	start := func(t *testing.T) (bootstraptoken.Token, func()) {
		t.Helper()
		// As Start does: the last line is moved aside, so only the new
		// process's line is waited for.
		if err := os.Rename(c.joinFile(), c.prevJoinFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		log := zap.NewNop()
		if os.Getenv("TUG_TEST_LOG") != "" {
			log = zap.NewExample()
		}
		go func() { done <- Run(ctx, c, log) }()
		stop := func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
		wctx, wcancel := context.WithTimeout(ctx, 90*time.Second)
		defer wcancel()
		line, err := waitReady(wctx, c, time.Now())
		if err != nil {
			stop()
			t.Fatalf("the control plane did not come up: %v", err)
		}
		tok, ok := lineToken(line)
		if !ok {
			stop()
			t.Fatalf("join line %q has no token", line)
		}
		return tok, stop
	}
	first, stop := start(t)
	stop()
	second, stop := start(t)
	if second != first {
		stop()
		t.Fatalf("restart minted token %s, want the valid %s reused", second.ID, first.ID)
	}
	created, exp, err := TokenExpires(t.Context(), c, "tug join 127.0.0.1:1 --token "+second.String())
	if left := time.Until(exp); err != nil || left <= 0 || left > c.TokenTTL || !created.Before(time.Now()) {
		stop()
		t.Fatalf("TokenExpires = %v, %v, %v; want made before now, expiring within --token-ttl %v", created, exp, err, c.TokenTTL)
	}
	// Seconds of life left (still valid): the next start mints a new one.
	admin := dial(t, c.AdminKubeconfig())
	ctx := t.Context()
	s, err := admin.Secrets().Get(ctx, &metav1.GetOptions{Namespace: bootstraptoken.Namespace, Name: first.SecretName()})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	s.Data[bootstraptoken.KeyExpiration] = []byte(time.Now().Add(30 * time.Second).UTC().Format(time.RFC3339))
	if _, err := admin.Secrets().Update(ctx, s); err != nil {
		stop()
		t.Fatal(err)
	}
	stop()
	third, stop := start(t)
	if third == first {
		stop()
		t.Fatalf("restart reused the token %s with seconds left", first.ID)
	}
	// Delete it: the next start mints a new one.
	if _, err := admin.Secrets().Delete(ctx, &metav1.DeleteOptions{Namespace: bootstraptoken.Namespace, Name: third.SecretName()}); err != nil {
		stop()
		t.Fatal(err)
	}
	stop()
	fourth, stop := start(t)
	if fourth == third || fourth == first {
		stop()
		t.Fatalf("restart reused the deleted token %s", third.ID)
	}
	stop()
	// A longer --token-ttl than the last token's: a new one.
	c.TokenTTL = 2 * time.Hour
	fifth, stop := start(t)
	defer stop()
	if fifth == fourth {
		t.Fatalf("restart with --token-ttl %v reused token %s made for an hour", c.TokenTTL, fourth.ID)
	}
}
