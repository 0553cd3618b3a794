// Package volume prepares a pod's volumes on the node and removes them with
// the pod: emptyDir (a directory, or tmpfs for medium Memory with its
// sizeLimit), secret (tmpfs, one file per key), configMap and hostPath.
// Secret and config map files are written atomically as Kubernetes does:
// a new timestamped directory, a "..data" symlink swapped to it by rename,
// and one symlink per key through "..data", so a container never sees half
// an update. Everything lives under <root>/<pod UID>/volumes/.
package volume

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/quantity"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Source reads the secrets and config maps volumes project, from an
// informer's cache.
type Source interface {
	Secret(namespace, name string) (*corev1.Secret, bool)
	ConfigMap(namespace, name string) (*corev1.ConfigMap, bool)
}

// secretTmpfsBytes sizes a secret volume's tmpfs: a secret holds at most
// 1 MiB and an update briefly keeps two copies.
const secretTmpfsBytes = 4 << 20

// Manager sets up and tears down pods' volumes under one root directory.
type Manager struct {
	root    string
	mounter Mounter
	src     Source

	mu sync.Mutex // one setup or teardown at a time per manager
}

// New returns a Manager keeping volumes under root.
func New(root string, mounter Mounter, src Source) *Manager {
	return &Manager{root: root, mounter: mounter, src: src}
}

// podDir is where one pod's volumes live.
func (m *Manager) podDir(uid string) string { return filepath.Join(m.root, uid) }

func (m *Manager) dir(uid, plugin, name string) string {
	return filepath.Join(m.podDir(uid), "volumes", plugin, name)
}

// Setup makes every volume of the pod ready (again: it is idempotent, and
// rewrites secret and config map files whose content changed) and returns
// the host path of each by volume name.
func (m *Manager) Setup(pod *corev1.Pod) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	uid, ns := pod.GetMetadata().GetUid(), pod.GetMetadata().GetNamespace()
	if uid == "" || strings.Contains(uid, "/") || uid == "." || uid == ".." {
		return nil, fmt.Errorf("pod uid %q cannot name a directory", uid)
	}
	out := map[string]string{}
	var errs []error
	for _, v := range pod.GetSpec().GetVolumes() {
		var path string
		var err error
		switch {
		case v.GetEmptyDir() != nil:
			path = m.dir(uid, "empty-dir", v.GetName())
			err = m.emptyDir(path, v.GetEmptyDir())
		case v.GetSecret() != nil:
			path = m.dir(uid, "secret", v.GetName())
			err = m.secret(path, ns, v.GetSecret())
		case v.GetConfigMap() != nil:
			path = m.dir(uid, "configmap", v.GetName())
			err = m.configMap(path, ns, v.GetConfigMap())
		case v.GetHostPath() != nil:
			path, err = hostPath(v.GetHostPath())
		default:
			err = errors.New("unsupported volume type")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("volume %q: %w", v.GetName(), err))
			continue
		}
		out[v.GetName()] = path
	}
	return out, errors.Join(errs...)
}

func (m *Manager) emptyDir(path string, e *corev1.EmptyDirVolumeSource) error {
	if err := os.MkdirAll(path, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if e.GetMedium() == "Memory" {
		var size int64
		if s := e.GetSizeLimit(); s != "" {
			v, err := quantity.Value(s)
			if err != nil {
				return fmt.Errorf("sizeLimit %q: %w", s, err)
			}
			size = v
		}
		if err := m.ensureTmpfs(path, size); err != nil {
			return err
		}
	}
	// Every container of the pod, whatever its user, may write here.
	if err := os.Chmod(path, 0o777); err != nil {
		return fmt.Errorf("chmod emptyDir %s: %w", path, err)
	}
	return nil
}

func (m *Manager) ensureTmpfs(path string, size int64) error {
	mounted, err := m.mounter.IsMount(path)
	if err != nil {
		return fmt.Errorf("check for a tmpfs on %s: %w", path, err)
	}
	if mounted {
		return nil
	}
	if err := m.mounter.MountTmpfs(path, size); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", path, err)
	}
	return nil
}

func (m *Manager) secret(path, ns string, s *corev1.SecretVolumeSource) error {
	if err := os.MkdirAll(path, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := m.ensureTmpfs(path, secretTmpfsBytes); err != nil {
		return err
	}
	data := map[string][]byte{}
	sec, ok := m.src.Secret(ns, s.GetSecretName())
	switch {
	case ok:
		data = sec.GetData()
	case !s.GetOptional():
		return fmt.Errorf("secret %q not found", s.GetSecretName())
	}
	files, err := payload(data, s.GetItems(), s.DefaultMode, s.GetOptional())
	if err != nil {
		return fmt.Errorf("secret %q: %w", s.GetSecretName(), err)
	}
	return writeAtomic(path, files)
}

func (m *Manager) configMap(path, ns string, c *corev1.ConfigMapVolumeSource) error {
	if err := os.MkdirAll(path, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	data := map[string][]byte{}
	cm, ok := m.src.ConfigMap(ns, c.GetName())
	switch {
	case ok:
		for k, v := range cm.GetData() {
			data[k] = []byte(v)
		}
		for k, v := range cm.GetBinaryData() {
			data[k] = v
		}
	case !c.GetOptional():
		return fmt.Errorf("configmap %q not found", c.GetName())
	}
	files, err := payload(data, c.GetItems(), c.DefaultMode, c.GetOptional())
	if err != nil {
		return fmt.Errorf("configmap %q: %w", c.GetName(), err)
	}
	return writeAtomic(path, files)
}

func hostPath(h *corev1.HostPathVolumeSource) (string, error) {
	p := filepath.Clean(h.GetPath())
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("hostPath %q is not absolute", h.GetPath())
	}
	st, err := os.Stat(p)
	switch h.GetType() {
	case "", "Socket", "CharDevice", "BlockDevice":
		return p, nil
	case "DirectoryOrCreate":
		if errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return "", fmt.Errorf("create hostPath %s: %w", p, err)
			}
			return p, nil
		}
	case "FileOrCreate":
		if errors.Is(err, os.ErrNotExist) {
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return "", fmt.Errorf("create hostPath %s: %w", p, err)
			}
			if err := f.Close(); err != nil {
				return "", fmt.Errorf("create hostPath %s: %w", p, err)
			}
			return p, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("hostPath %s: %w", p, err)
	}
	if want := h.GetType(); (want == "Directory" || want == "DirectoryOrCreate") && !st.IsDir() {
		return "", fmt.Errorf("hostPath %s is not a directory", p)
	}
	if want := h.GetType(); (want == "File" || want == "FileOrCreate") && !st.Mode().IsRegular() {
		return "", fmt.Errorf("hostPath %s is not a file", p)
	}
	return p, nil
}

// Teardown unmounts and removes every volume of a pod. A mount that will
// not go away stops it before anything under it is removed.
func (m *Manager) Teardown(uid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.teardown(m.podDir(uid))
}

func (m *Manager) teardown(dir string) error {
	mounts, err := m.mounter.MountsUnder(dir)
	if err != nil {
		return fmt.Errorf("find mounts under %s: %w", dir, err)
	}
	// Deepest first.
	slices.SortFunc(mounts, func(a, b string) int { return len(b) - len(a) })
	for _, p := range mounts {
		if err := m.mounter.Unmount(p); err != nil {
			return fmt.Errorf("unmount %s: %w", p, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// Orphans tears down the volumes of every pod UID under the root that keep
// says is gone (after a kubelet restart, say).
func (m *Manager) Orphans(keep func(uid string) bool) error {
	entries, err := os.ReadDir(m.root)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", m.root, err)
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() && !keep(e.Name()) {
			errs = append(errs, m.Teardown(e.Name()))
		}
	}
	return errors.Join(errs...)
}

// TeardownAll unmounts and removes every pod's volumes (kubelet --cleanup).
func (m *Manager) TeardownAll() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.teardown(m.root)
}

// Mounts are the CRI mounts of one container: its volumeMounts resolved to
// the host paths Setup returned. Secret and config map volumes are always
// read-only. A subPath is resolved beneath its volume (missing directories
// are created); one that leaves it, also through a symlink a container made
// in the volume, is refused.
func Mounts(pod *corev1.Pod, c *corev1.Container, paths map[string]string) ([]*runtimeapi.Mount, error) {
	kinds := map[string]*corev1.Volume{}
	for _, v := range pod.GetSpec().GetVolumes() {
		kinds[v.GetName()] = v
	}
	var out []*runtimeapi.Mount
	for _, vm := range c.GetVolumeMounts() {
		host, ok := paths[vm.GetName()]
		if !ok {
			return nil, fmt.Errorf("volumeMount %q names no prepared volume", vm.GetName())
		}
		if sp := vm.GetSubPath(); sp != "" {
			real, err := resolveSubPath(host, sp)
			if err != nil {
				return nil, fmt.Errorf("volumeMount %q: subPath %q: %w", vm.GetName(), sp, err)
			}
			host = real
		}
		v := kinds[vm.GetName()]
		out = append(out, &runtimeapi.Mount{
			ContainerPath: vm.GetMountPath(),
			HostPath:      host,
			Readonly:      vm.GetReadOnly() || v.GetSecret() != nil || v.GetConfigMap() != nil,
			Propagation:   propagation(vm.GetMountPropagation()),
		})
	}
	return out, nil
}

func propagation(p string) runtimeapi.MountPropagation {
	switch p {
	case "HostToContainer":
		return runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
	case "Bidirectional":
		return runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL
	}
	return runtimeapi.MountPropagation_PROPAGATION_PRIVATE
}
