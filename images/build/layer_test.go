package main

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func layerEntries(t *testing.T, files []file) []string {
	t.Helper()
	l, err := newLayer(files)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var names []string
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.ModTime.Unix() != 0 || hdr.Uid != 0 || hdr.Gid != 0 {
			t.Errorf("%s: mtime %v uid %d gid %d, want epoch and root", hdr.Name, hdr.ModTime, hdr.Uid, hdr.Gid)
		}
		names = append(names, hdr.Name)
	}
}

func TestNewLayer(t *testing.T) {
	tests := []struct {
		name    string
		files   []file
		want    string
		wantErr string
	}{
		{"parents added, sorted", []file{regular("usr/bin/x", 0o755, nil), symlink("bin/sh", "busybox")},
			"bin/ bin/sh usr/ usr/bin/ usr/bin/x", ""},
		{"leading slash", []file{regular("/pause", 0o755, []byte("x"))}, "pause", ""},
		{"explicit dir kept", []file{dir("tmp", 0o1777), regular("tmp/a", 0o644, nil)}, "tmp/ tmp/a", ""},
		{"twice", []file{regular("a", 0o644, nil), regular("/a", 0o644, nil)}, "", "twice"},
		{"escapes", []file{regular("../a", 0o644, nil)}, "", "bad path"},
		{"file as parent", []file{regular("a", 0o644, nil), regular("a/b", 0o644, nil)}, "", "parent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr != "" {
				if _, err := newLayer(tt.files); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if got := strings.Join(layerEntries(t, tt.files), " "); got != tt.want {
				t.Errorf("entries = %q, want %q", got, tt.want)
			}
		})
	}
	// The same files give the same digest.
	a, _ := newLayer([]file{regular("a", 0o644, []byte("1")), dir("d", 0o755)})
	b, _ := newLayer([]file{dir("d", 0o755), regular("a", 0o644, []byte("1"))})
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("digests %s and %s of the same files differ", da, db)
	}
}

// TestShims runs the shims with busybox's own sh, as in the image.
func TestShims(t *testing.T) {
	tests := []struct {
		shim     string
		args     []string
		env      []string
		wantOut  string
		wantCode int
	}{
		{"printenv", []string{"A"}, []string{"A=x y"}, "x y\n", 0},
		{"printenv", []string{"A", "B"}, []string{"A=1", "B="}, "1\n\n", 0},
		{"printenv", []string{"MISSING"}, nil, "", 1},
		{"printenv", []string{"$(id)"}, nil, "", 1},
		{"printenv", nil, []string{"A=1"}, "A=1\n", 0},
		{"bash", []string{"-c", "echo $((1+2))"}, nil, "3\n", 0},
		{"curl", []string{"-X", "POST", "http://127.0.0.1:1/"}, nil, "", 2},
		{"curl", []string{"-s"}, nil, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.shim+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			script := shims[tt.shim]
			if tt.shim == "bash" {
				script = strings.ReplaceAll(script, "/bin/sh", "/bin/busybox sh")
			}
			args := append([]string{"sh", "-c", script, tt.shim}, tt.args...)
			cmd := exec.CommandContext(context.Background(), "/bin/busybox", args...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tt.env...)
			out, err := cmd.Output()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
			if tt.args == nil {
				if !strings.Contains(string(out), tt.wantOut) {
					t.Errorf("output %q lacks %q", out, tt.wantOut)
				}
			} else if string(out) != tt.wantOut {
				t.Errorf("output = %q, want %q", out, tt.wantOut)
			}
		})
	}
}

func TestCheckStatic(t *testing.T) {
	text := t.TempDir() + "/text"
	os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755)
	tests := []struct {
		path    string
		wantErr string
	}{
		{"/bin/busybox", ""},
		{"/bin/sh", "dynamically linked"}, // Debian's dash
		{text, "busybox-static"},
		{"/nonexistent/busybox", "busybox-static"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := checkStatic(tt.path)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("checkStatic(%s) = %v, want %q", tt.path, err, tt.wantErr)
			}
		})
	}
}
