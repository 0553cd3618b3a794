package volume

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// fakeMounter remembers tmpfs mounts instead of making them.
type fakeMounter struct{ mounts map[string]int64 }

func (f *fakeMounter) MountTmpfs(dir string, size int64) error { f.mounts[dir] = size; return nil }
func (f *fakeMounter) Unmount(dir string) error                { delete(f.mounts, dir); return nil }
func (f *fakeMounter) IsMount(dir string) (bool, error)        { _, ok := f.mounts[dir]; return ok, nil }
func (f *fakeMounter) MountsUnder(dir string) ([]string, error) {
	var out []string
	for m := range f.mounts {
		if m == dir || strings.HasPrefix(m, dir+"/") {
			out = append(out, m)
		}
	}
	return out, nil
}

type source struct {
	secrets map[string]*corev1.Secret
	cms     map[string]*corev1.ConfigMap
}

func (s source) Secret(ns, name string) (*corev1.Secret, bool) {
	v, ok := s.secrets[ns+"/"+name]
	return v, ok
}

func (s source) ConfigMap(ns, name string) (*corev1.ConfigMap, bool) {
	v, ok := s.cms[ns+"/"+name]
	return v, ok
}

func testPod(vols ...*corev1.Volume) *corev1.Pod {
	return &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "p", Uid: "uid-1"}, Spec: &corev1.PodSpec{Volumes: vols}}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEmptyDir(t *testing.T) {
	root := t.TempDir()
	fm := &fakeMounter{mounts: map[string]int64{}}
	m := New(root, fm, source{})
	pod := testPod(
		&corev1.Volume{Name: "xchange", EmptyDir: &corev1.EmptyDirVolumeSource{}},
		&corev1.Volume{Name: "cache", EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: "64Mi"}},
	)
	paths, err := m.Setup(pod)
	if err != nil {
		t.Fatal(err)
	}
	x := paths["xchange"]
	if x != filepath.Join(root, "uid-1/volumes/empty-dir/xchange") {
		t.Errorf("emptyDir at %s", x)
	}
	if st, err := os.Stat(x); err != nil || st.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir mode %v, %v; want 0777", st.Mode(), err)
	}
	if _, ok := fm.mounts[x]; ok {
		t.Error("a disk emptyDir was mounted")
	}
	if size := fm.mounts[paths["cache"]]; size != 64<<20 {
		t.Errorf("memory emptyDir tmpfs size %d, want 64Mi", size)
	}
	// Kept across syncs (container restarts): content stays, no remount.
	if err := os.WriteFile(filepath.Join(x, "data"), []byte("some data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Setup(pod); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(x, "data")); got != "some data" {
		t.Errorf("after a second setup the file holds %q", got)
	}
	if err := m.Teardown("uid-1"); err != nil {
		t.Fatal(err)
	}
	if len(fm.mounts) != 0 {
		t.Errorf("mounts left: %v", fm.mounts)
	}
	if _, err := os.Stat(filepath.Join(root, "uid-1")); !os.IsNotExist(err) {
		t.Errorf("pod dir not removed: %v", err)
	}
}

func TestSecretVolumeAtomicUpdates(t *testing.T) {
	root := t.TempDir()
	fm := &fakeMounter{mounts: map[string]int64{}}
	src := source{secrets: map[string]*corev1.Secret{"ns/apikey": {Data: map[string][]byte{"apikey.txt": []byte("A19fh68B001j"), "other": []byte("o")}}}}
	m := New(root, fm, src)
	pod := testPod(&corev1.Volume{Name: "apikeyvol", Secret: &corev1.SecretVolumeSource{SecretName: "apikey", DefaultMode: proto.Int32(0o400)}})
	paths, err := m.Setup(pod)
	if err != nil {
		t.Fatal(err)
	}
	dir := paths["apikeyvol"]
	if fm.mounts[dir] != secretTmpfsBytes {
		t.Errorf("secret volume not on tmpfs: %v", fm.mounts)
	}
	if got := read(t, filepath.Join(dir, "apikey.txt")); got != "A19fh68B001j" {
		t.Errorf("apikey.txt = %q", got)
	}
	if target, _ := os.Readlink(filepath.Join(dir, "apikey.txt")); target != "..data/apikey.txt" {
		t.Errorf("apikey.txt links to %q, want ..data/apikey.txt", target)
	}
	if st, err := os.Stat(filepath.Join(dir, "apikey.txt")); err != nil || st.Mode().Perm() != 0o400 {
		t.Errorf("mode %v, %v; want defaultMode 0400", st.Mode(), err)
	}
	first, _ := os.Readlink(filepath.Join(dir, "..data"))

	// Same content: nothing is rewritten.
	if _, err := m.Setup(pod); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Readlink(filepath.Join(dir, "..data")); again != first {
		t.Errorf("unchanged secret rewritten: %s -> %s", first, again)
	}

	// An update swaps ..data, drops the removed key and the old version.
	src.secrets["ns/apikey"] = &corev1.Secret{Data: map[string][]byte{"apikey.txt": []byte("rotated")}}
	if _, err := m.Setup(pod); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "apikey.txt")); got != "rotated" {
		t.Errorf("after the update apikey.txt = %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "other")); !os.IsNotExist(err) {
		t.Errorf("removed key still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !os.IsNotExist(err) {
		t.Errorf("old version %s not removed: %v", first, err)
	}
}

func TestItemsAndConfigMap(t *testing.T) {
	root := t.TempDir()
	src := source{cms: map[string]*corev1.ConfigMap{"ns/conf": {Data: map[string]string{"app.properties": "a=b", "unused": "x"}, BinaryData: map[string][]byte{"logo": {1, 2}}}}}
	m := New(root, &fakeMounter{mounts: map[string]int64{}}, src)
	pod := testPod(&corev1.Volume{Name: "conf", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "conf", Items: []*corev1.KeyToPath{
		{Key: "app.properties", Path: "etc/app.conf", Mode: proto.Int32(0o600)},
		{Key: "logo", Path: "logo.bin"},
	}}})
	paths, err := m.Setup(pod)
	if err != nil {
		t.Fatal(err)
	}
	dir := paths["conf"]
	if got := read(t, filepath.Join(dir, "etc/app.conf")); got != "a=b" {
		t.Errorf("etc/app.conf = %q", got)
	}
	if st, _ := os.Stat(filepath.Join(dir, "etc/app.conf")); st.Mode().Perm() != 0o600 {
		t.Errorf("item mode %v, want 0600", st.Mode())
	}
	if st, _ := os.Stat(filepath.Join(dir, "logo.bin")); st.Mode().Perm() != 0o644 {
		t.Errorf("default mode %v, want 0644", st.Mode())
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "..") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	if strings.Join(names, ",") != "etc,logo.bin" {
		t.Errorf("volume shows %v, want only the items", names)
	}
}

func TestMissingSourcesAndMounts(t *testing.T) {
	m := New(t.TempDir(), &fakeMounter{mounts: map[string]int64{}}, source{})
	pod := testPod(
		&corev1.Volume{Name: "s", Secret: &corev1.SecretVolumeSource{SecretName: "nope"}},
		&corev1.Volume{Name: "opt", Secret: &corev1.SecretVolumeSource{SecretName: "nope", Optional: proto.Bool(true)}},
		&corev1.Volume{Name: "e", EmptyDir: &corev1.EmptyDirVolumeSource{}},
	)
	paths, err := m.Setup(pod)
	if err == nil || !strings.Contains(err.Error(), `volume "s": secret "nope" not found`) {
		t.Errorf("missing secret gave %v", err)
	}
	if _, ok := paths["opt"]; !ok {
		t.Error("an optional missing secret did not give an empty volume")
	}
	c := &corev1.Container{Name: "c", VolumeMounts: []*corev1.VolumeMount{
		{Name: "opt", MountPath: "/secret"}, {Name: "e", MountPath: "/data", SubPath: "sub"},
	}}
	mounts, err := Mounts(pod, c, paths)
	if err != nil {
		t.Fatal(err)
	}
	if !mounts[0].GetReadonly() || mounts[1].GetReadonly() {
		t.Errorf("read-only flags %v %v, want secret ro and emptyDir rw", mounts[0].GetReadonly(), mounts[1].GetReadonly())
	}
	if mounts[1].GetHostPath() != filepath.Join(paths["e"], "sub") {
		t.Errorf("subPath host path %s", mounts[1].GetHostPath())
	}
	c.VolumeMounts = append(c.VolumeMounts, &corev1.VolumeMount{Name: "s", MountPath: "/s"})
	if _, err := Mounts(pod, c, paths); err == nil {
		t.Error("a mount of an unprepared volume was accepted")
	}
}

// --cleanup: every pod's mounts go, then the whole root.
func TestTeardownAll(t *testing.T) {
	root := filepath.Join(t.TempDir(), "pod-volumes")
	fm := &fakeMounter{mounts: map[string]int64{}}
	m := New(root, fm, source{})
	for _, uid := range []string{"a", "b"} {
		p := testPod(&corev1.Volume{Name: "mem", EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory"}})
		p.Metadata.Uid = uid
		if _, err := m.Setup(p); err != nil {
			t.Fatal(err)
		}
	}
	if len(fm.mounts) != 2 {
		t.Fatalf("%d mounts, want 2", len(fm.mounts))
	}
	if err := m.TeardownAll(); err != nil {
		t.Fatal(err)
	}
	if len(fm.mounts) != 0 {
		t.Errorf("mounts left: %v", fm.mounts)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("root left: %v", err)
	}
}

// The real mounter on a real tmpfs (needs root, as the kubelet does).
func TestSystemTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("mounting tmpfs needs root, which CI has")
		}
		t.Skip("mounting tmpfs needs root")
	}
	root := t.TempDir()
	m := New(root, System{}, source{})
	paths, err := m.Setup(testPod(&corev1.Volume{Name: "mem", EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: "1Mi"}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = System{}.Unmount(paths["mem"]) })
	if ok, err := (System{}).IsMount(paths["mem"]); !ok || err != nil {
		t.Fatalf("not mounted: %v", err)
	}
	// sizeLimit is the tmpfs size: 2 MiB do not fit.
	err = os.WriteFile(filepath.Join(paths["mem"], "big"), make([]byte, 2<<20), 0o644)
	if err == nil {
		t.Error("2 MiB fit in a 1Mi memory emptyDir")
	}
	if err := m.Teardown("uid-1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := (System{}).IsMount(paths["mem"]); ok {
		t.Error("still mounted after teardown")
	}
	if _, err := os.Stat(filepath.Join(root, "uid-1")); !os.IsNotExist(err) {
		t.Errorf("pod dir left: %v", err)
	}
}

func TestOverLimit(t *testing.T) {
	root := t.TempDir()
	m := New(root, &fakeMounter{mounts: map[string]int64{}}, source{})
	pod := testPod(
		&corev1.Volume{Name: "scratch", EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: "1Ki"}},
		&corev1.Volume{Name: "mem", EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: "1Ki"}},
	)
	if !Limited(pod) || Limited(testPod(pod.Spec.Volumes[1])) {
		t.Error("Limited is wrong")
	}
	paths, err := m.Setup(pod)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(paths["scratch"], "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(paths["scratch"], "sub", "a"), make([]byte, 1024), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := m.OverLimit(pod); msg != "" || err != nil {
		t.Errorf("at the limit: %q, %v", msg, err)
	}
	if err := os.WriteFile(filepath.Join(paths["scratch"], "b"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	msg, err := m.OverLimit(pod)
	if err != nil || msg != `Usage of EmptyDir volume "scratch" exceeds the limit "1Ki".` {
		t.Errorf("over the limit: %q, %v", msg, err)
	}
}
