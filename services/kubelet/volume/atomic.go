package volume

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// dataLink is the symlink that names the current version of a projected
// volume's files.
const dataLink = "..data"

// file is one projected file.
type file struct {
	data []byte
	mode os.FileMode
}

// payload is the files a secret or config map projects: every key, or only
// the items listed (under their paths, with their modes).
func payload(data map[string][]byte, items []*corev1.KeyToPath, defaultMode *int32, optional bool) (map[string]file, error) {
	mode := os.FileMode(0o644)
	if defaultMode != nil {
		mode = os.FileMode(*defaultMode) & os.ModePerm
	}
	out := map[string]file{}
	if len(items) == 0 {
		for k, v := range data {
			out[k] = file{v, mode}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.GetKey()]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("key %q not found", it.GetKey())
		}
		p := filepath.Clean(it.GetPath())
		if p == "." || filepath.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "..") {
			return nil, fmt.Errorf("item path %q must be relative and must not start with '..'", it.GetPath())
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(it.GetMode()) & os.ModePerm
		}
		out[p] = file{v, m}
	}
	return out, nil
}

// writeAtomic makes dir show exactly files: it writes them into a new
// timestamped directory, swaps the ..data symlink to it with a rename, links
// each top-level name through ..data and removes the old version. Nothing
// changes when the files are already there.
func writeAtomic(dir string, files map[string]file) error {
	oldName, _ := os.Readlink(filepath.Join(dir, dataLink))
	if oldName != "" && same(filepath.Join(dir, oldName), files) {
		// Versions a crash left behind still go.
		return removeVersions(dir, oldName)
	}
	ts, err := newVersion(dir, files)
	if err != nil {
		return err
	}
	top := map[string]bool{}
	for p := range files {
		top[strings.SplitN(p, string(filepath.Separator), 2)[0]] = true
	}
	for name := range top {
		link := filepath.Join(dir, name)
		if target, err := os.Readlink(link); err == nil && target == filepath.Join(dataLink, name) {
			continue
		}
		_ = os.RemoveAll(link)
		if err := os.Symlink(filepath.Join(dataLink, name), link); err != nil {
			return fmt.Errorf("link %s to %s: %w", link, filepath.Join(dataLink, name), err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "..") && !top[e.Name()] {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return removeVersions(dir, filepath.Base(ts))
}

// newVersion writes files into a new timestamped directory of dir and
// points ..data at it. On any error before ..data is swapped the new
// directory is removed again: it would fill the volume's small tmpfs.
func newVersion(dir string, files map[string]file) (_ string, err error) {
	ts, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return "", fmt.Errorf("new version dir in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(ts)
		}
	}()
	if err := os.Chmod(ts, 0o755); err != nil {
		return "", fmt.Errorf("chmod %s: %w", ts, err)
	}
	for p, f := range files {
		full := filepath.Join(ts, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", fmt.Errorf("write %s: create its directory: %w", p, err)
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return "", fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.Chmod(full, f.mode); err != nil {
			return "", fmt.Errorf("write %s: %w", p, err)
		}
	}
	tmp := filepath.Join(dir, dataLink+"_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return "", fmt.Errorf("link new version %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("swap %s in %s: %w", dataLink, dir, err)
	}
	return ts, nil
}

// removeVersions removes every version directory ("..2026_...") of dir but
// current: the one replaced, and any a failed write or a crash left.
func removeVersions(dir, current string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if n := e.Name(); isVersion(n) && n != current && e.IsDir() {
			if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
				errs = append(errs, fmt.Errorf("remove old version: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// isVersion says whether name is a version directory's: ".." and a digit.
func isVersion(name string) bool {
	return len(name) > 2 && strings.HasPrefix(name, "..") && name[2] >= '0' && name[2] <= '9'
}

// same says whether version dir holds exactly files.
func same(dir string, files map[string]file) bool {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		rel, _ := filepath.Rel(dir, p)
		f, ok := files[rel]
		info, ierr := d.Info()
		if !ok || ierr != nil || info.Mode().Perm() != f.mode {
			return errDiffers
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, f.data) {
			return errDiffers
		}
		return nil
	})
	return err == nil && n == len(files)
}

var errDiffers = fmt.Errorf("differs")
