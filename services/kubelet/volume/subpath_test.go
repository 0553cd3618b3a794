package volume

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// bothResolvers runs f with the kernel's openat2 and with the walk done
// here (kernels before 5.6).
func bothResolvers(t *testing.T, f func(t *testing.T)) {
	for _, kernel := range []bool{true, false} {
		name := "walk"
		if kernel {
			name = "openat2"
		}
		t.Run(name, func(t *testing.T) {
			old := useOpenat2
			useOpenat2 = kernel
			t.Cleanup(func() { useOpenat2 = old })
			f(t)
		})
	}
}

// A container makes symlinks in its emptyDir that point out of it; a later
// subPath through them must not reach (or create anything on) the host.
func TestSubPathSymlinkEscapes(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		outside := t.TempDir() // stands for the host beyond the volume
		vol := filepath.Join(outside, "pod", "volumes", "empty-dir", "e")
		if err := os.MkdirAll(vol, 0o777); err != nil {
			t.Fatal(err)
		}
		for name, target := range map[string]string{
			"root":      "/",
			"up":        "../..",
			"abs":       outside,
			"chain":     "hop",
			"hop":       "d/../../..",
			"dangling":  "/nonexistent-tugboat-subpath",
			"procmagic": "/proc/self/root",
		} {
			if err := os.Symlink(target, filepath.Join(vol, name)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Mkdir(filepath.Join(vol, "d"), 0o777); err != nil {
			t.Fatal(err)
		}
		for _, sub := range []string{"root", "root/etc", "up", "up/created", "abs/created", "chain/created", "dangling", "procmagic", "../x", "/etc", "d/../../x"} {
			got, err := resolveSubPath(vol, sub)
			if !errors.Is(err, errEscapes) {
				t.Errorf("subPath %q resolved to %q, %v; want it refused as leaving the volume", sub, got, err)
			}
		}
		if _, err := os.Stat(filepath.Join(outside, "pod", "volumes", "created")); !os.IsNotExist(err) {
			t.Errorf("a directory was created outside the volume: %v", err)
		}
		if _, err := os.Stat(filepath.Join(outside, "created")); !os.IsNotExist(err) {
			t.Errorf("a directory was created outside the volume: %v", err)
		}
		if _, err := os.Lstat("/nonexistent-tugboat-subpath"); !os.IsNotExist(err) {
			t.Errorf("the dangling symlink's target was created on the host: %v", err)
		}
	})
}

// Paths and symlinks that stay inside the volume work, and missing
// directories are created.
func TestSubPathInside(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		vol := t.TempDir()
		real, err := filepath.EvalSymlinks(vol)
		if err != nil {
			t.Fatal(err)
		}
		// A secret volume's layout: key -> ..data/key, ..data -> ..v1.
		if err := os.MkdirAll(filepath.Join(vol, "..v1"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(vol, "..v1", "key"), []byte("k"), 0o644); err != nil {
			t.Fatal(err)
		}
		for name, target := range map[string]string{"..data": "..v1", "key": "..data/key", "in": "a/b/../c", "self": "."} {
			if err := os.Symlink(target, filepath.Join(vol, name)); err != nil {
				t.Fatal(err)
			}
		}
		for sub, want := range map[string]string{
			".":          real,
			"new/nested": filepath.Join(real, "new/nested"),
			"key":        filepath.Join(real, "..v1/key"),
			"in":         filepath.Join(real, "a/c"),
			"self/x":     filepath.Join(real, "x"),
			"a/../y":     filepath.Join(real, "y"),
		} {
			got, err := resolveSubPath(vol, sub)
			if err != nil || got != want {
				t.Errorf("subPath %q = %q, %v; want %q", sub, got, err, want)
				continue
			}
			if st, err := os.Stat(got); err != nil || (sub != "key" && !st.IsDir()) {
				t.Errorf("subPath %q: %s not created: %v", sub, got, err)
			}
		}
		if _, err := resolveSubPath(vol, "key/below"); err == nil || errors.Is(err, errEscapes) {
			t.Errorf("a subPath below a file gave %v, want a not-a-directory error", err)
		}
	})
}

// Mounts refuses the escape with a message naming the mount and subPath
// (the container's CreateContainerConfigError) and mounts nothing.
func TestMountsRefusesSymlinkSubPath(t *testing.T) {
	root := t.TempDir()
	m := New(root, &fakeMounter{mounts: map[string]int64{}}, source{})
	pod := testPod(&corev1.Volume{Name: "e", EmptyDir: &corev1.EmptyDirVolumeSource{}})
	paths, err := m.Setup(pod)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(paths["e"], "x")); err != nil {
		t.Fatal(err)
	}
	c := &corev1.Container{Name: "c", VolumeMounts: []*corev1.VolumeMount{{Name: "e", MountPath: "/host", SubPath: "x"}}}
	mounts, err := Mounts(pod, c, paths)
	want := `volumeMount "e": subPath "x": resolves outside the volume`
	if err == nil || err.Error() != want {
		t.Errorf("Mounts = %v, %v; want the error %q", mounts, err, want)
	}
	for _, mt := range mounts {
		if !strings.HasPrefix(mt.GetHostPath(), root) {
			t.Errorf("host path %s outside the volumes", mt.GetHostPath())
		}
	}
}
