package volume

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

var errMountTable = errors.New("mount table unreadable")

// brokenMounter cannot read the mount table.
type brokenMounter struct{ fakeMounter }

func (brokenMounter) IsMount(string) (bool, error)         { return false, errMountTable }
func (brokenMounter) MountsUnder(string) ([]string, error) { return nil, errMountTable }

// Errors say what was being done and to which path, and keep their cause.
func TestErrorsNameOperationAndPath(t *testing.T) {
	root := t.TempDir()
	m := New(root, &brokenMounter{}, source{})
	pod := testPod(&corev1.Volume{Name: "mem", EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory"}})
	_, err := m.Setup(pod)
	dir := filepath.Join(root, "uid-1/volumes/empty-dir/mem")
	if want := "check for a tmpfs on " + dir; err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, errMountTable) {
		t.Errorf("Setup = %v; want it to contain %q and wrap the cause", err, want)
	}
	err = m.Teardown("uid-1")
	if want := "find mounts under " + filepath.Join(root, "uid-1"); err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, errMountTable) {
		t.Errorf("Teardown = %v; want it to contain %q and wrap the cause", err, want)
	}

	// A projected file whose directory cannot be made.
	vol := t.TempDir()
	long := strings.Repeat("d", 300) + "/key"
	err = writeAtomic(vol, map[string]file{long: {[]byte("v"), 0o644}})
	if want := "write " + long + ": create its directory: mkdir " + vol + "/.."; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("writeAtomic = %v; want it to contain %q", err, want)
	}
}
