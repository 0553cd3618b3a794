package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"go.uber.org/zap"
)

// TestCheckDataDir: a data dir writable by group or others, or owned by
// another user, is refused with its path and mode; a private one or a
// missing one is fine.
func TestCheckDataDir(t *testing.T) {
	for _, tt := range []struct {
		name  string
		mode  os.FileMode
		chown bool   // owned by another uid (needs root)
		want  string // "" = accepted
	}{
		{name: "private", mode: 0o700},
		{name: "readable by others", mode: 0o755},
		{name: "group writable", mode: 0o770, want: "has mode 0770: it is writable by group or others"},
		{name: "world writable", mode: 0o777, want: "has mode 0777: it is writable by group or others"},
		{name: "others writable only", mode: 0o702, want: "has mode 0702"},
		{name: "another owner", mode: 0o700, chown: true, want: "(mode 0700) is owned by uid 65534, not by this user"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.chown {
				if os.Geteuid() != 0 && os.Getenv("CI") == "" {
					t.Skip("changing a dir's owner needs root")
				}
				if err := os.Chown(dir, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			err := checkDataDir(dir)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("checkDataDir = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("checkDataDir = %v, want it to name %s and say %q", err, dir, tt.want)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		if err := checkDataDir(filepath.Join(t.TempDir(), "new")); err != nil {
			t.Fatalf("checkDataDir = %v, want nil", err)
		}
	})
	t.Run("not a dir", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := checkDataDir(f); err == nil || !strings.Contains(err.Error(), "is not a directory") {
			t.Fatalf("checkDataDir = %v", err)
		}
	})
}

// TestStartsRefuseAnOpenDataDir: tug up/init (Start, Run) and tug join
// (prepareJoin, RunJoin) refuse a world-writable data dir before they
// write anything into it.
func TestStartsRefuseAnOpenDataDir(t *testing.T) {
	tok, err := bootstraptoken.Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		run  func(dir string) error
	}{
		{"Start", func(dir string) error {
			c := DefaultConfig()
			c.DataDir, c.Init, c.ListenAddress = dir, true, freeAddr(t)
			_, _, err := Start(t.Context(), c, []string{"init", "--foreground"})
			return err
		}},
		{"Run", func(dir string) error {
			c := DefaultConfig()
			c.DataDir, c.Init, c.ListenAddress = dir, true, freeAddr(t)
			return Run(t.Context(), c, zap.NewNop())
		}},
		{"prepareJoin", func(dir string) error {
			j := DefaultJoinConfig()
			j.DataDir, j.Endpoint, j.CAHash = dir, "127.0.0.1:1", "sha256:"+strings.Repeat("0", 64)
			_, err := prepareJoin(context.Background(), j, tok)
			return err
		}},
		{"RunJoin", func(dir string) error {
			j := DefaultJoinConfig()
			j.DataDir = dir
			return RunJoin(t.Context(), j, zap.NewNop())
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			err := tt.run(dir)
			if err == nil || !strings.Contains(err.Error(), "data dir "+dir+" has mode 0777") {
				t.Fatalf("%s = %v, want the data dir refused", tt.name, err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 0 {
				t.Fatalf("%s wrote %v into the refused data dir", tt.name, entries)
			}
		})
	}
}

// TestMode: the data dir's mode file says what runs from it; an older
// data dir without one is judged by the node's kubeconfig.
func TestMode(t *testing.T) {
	for _, tt := range []struct {
		name     string
		mode     string // written to the mode file; "" = none
		kubelet  bool   // kubelet.conf present
		want     string
		wantNode bool
	}{
		{name: "up", mode: ModeUp, kubelet: true, want: ModeUp, wantNode: true},
		{name: "init with a stale kubelet.conf", mode: ModeInit, kubelet: true, want: ModeInit},
		{name: "join before its kubeconfig", mode: ModeJoin, want: ModeJoin, wantNode: true},
		{name: "old up dir", kubelet: true, want: ModeUp, wantNode: true},
		{name: "old init dir", want: ModeInit},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.DataDir = t.TempDir()
			if tt.mode != "" {
				if err := c.writeMode(tt.mode); err != nil {
					t.Fatal(err)
				}
			}
			if tt.kubelet {
				if err := os.WriteFile(c.conf(KubeletConf), []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if got := c.Mode(); got != tt.want {
				t.Fatalf("Mode = %q, want %q", got, tt.want)
			}
			if got := c.RunsNode(); got != tt.wantNode {
				t.Fatalf("RunsNode = %v, want %v", got, tt.wantNode)
			}
		})
	}
	t.Run("no data dir", func(t *testing.T) {
		c := DefaultConfig()
		c.DataDir = filepath.Join(t.TempDir(), "none")
		if got := c.Mode(); got != "" {
			t.Fatalf("Mode = %q, want none", got)
		}
	})
}
