package volume

import (
	"fmt"
	"io/fs"
	"path/filepath"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/quantity"
)

// Limited says whether the pod has an emptyDir on disk with a sizeLimit,
// which only a check of its usage enforces (a memory one is a tmpfs of that
// size).
func Limited(pod *corev1.Pod) bool {
	for _, v := range pod.GetSpec().GetVolumes() {
		if e := v.GetEmptyDir(); e != nil && e.GetMedium() != "Memory" && e.GetSizeLimit() != "" {
			return true
		}
	}
	return false
}

// OverLimit checks the pod's disk emptyDirs against their sizeLimit and
// says which one holds more, in Kubernetes' eviction message; "" when none.
func (m *Manager) OverLimit(pod *corev1.Pod) (string, error) {
	uid := pod.GetMetadata().GetUid()
	for _, v := range pod.GetSpec().GetVolumes() {
		e := v.GetEmptyDir()
		if e == nil || e.GetMedium() == "Memory" || e.GetSizeLimit() == "" {
			continue
		}
		limit, err := quantity.Value(e.GetSizeLimit())
		if err != nil {
			return "", fmt.Errorf("volume %q: sizeLimit %q: %w", v.GetName(), e.GetSizeLimit(), err)
		}
		used, err := usage(m.dir(uid, "empty-dir", v.GetName()))
		if err != nil {
			return "", fmt.Errorf("volume %q: %w", v.GetName(), err)
		}
		if used > limit {
			return fmt.Sprintf("Usage of EmptyDir volume %q exceeds the limit %q.", v.GetName(), e.GetSizeLimit()), nil
		}
	}
	return "", nil
}

// usage is the bytes of the regular files under dir.
func usage(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if d == nil {
				return err
			}
			return nil // vanished meanwhile
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("usage of %s: %w", dir, err)
	}
	return n, nil
}
