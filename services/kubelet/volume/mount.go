package volume

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Mounter mounts tmpfs and finds and removes mounts.
type Mounter interface {
	MountTmpfs(dir string, size int64) error
	Unmount(dir string) error
	IsMount(dir string) (bool, error)
	// MountsUnder lists the mount points at or below dir.
	MountsUnder(dir string) ([]string, error)
}

// System mounts for real (root).
type System struct{}

// MountTmpfs mounts a tmpfs of size bytes (0: the kernel's default) on dir.
func (System) MountTmpfs(dir string, size int64) error {
	opts := "mode=0755"
	if size > 0 {
		opts += ",size=" + strconv.FormatInt(size, 10)
	}
	return unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts)
}

// Unmount unmounts dir, lazily when it is busy.
func (System) Unmount(dir string) error {
	err := unix.Unmount(dir, 0)
	if errors.Is(err, unix.EBUSY) {
		err = unix.Unmount(dir, unix.MNT_DETACH)
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		return nil // not a mount (any more)
	}
	return err
}

// IsMount says whether dir is a mount point.
func (s System) IsMount(dir string) (bool, error) {
	ms, err := s.mounts()
	if err != nil {
		return false, err
	}
	clean := filepath.Clean(dir)
	for _, m := range ms {
		if m == clean {
			return true, nil
		}
	}
	return false, nil
}

// MountsUnder lists the mount points at or below dir.
func (s System) MountsUnder(dir string) ([]string, error) {
	ms, err := s.mounts()
	if err != nil {
		return nil, err
	}
	clean := filepath.Clean(dir)
	var out []string
	for _, m := range ms {
		if m == clean || strings.HasPrefix(m, clean+"/") {
			out = append(out, m)
		}
	}
	return out, nil
}

// mounts reads the mount points of this process's mount namespace.
func (System) mounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 {
			out = append(out, unescape(fields[4]))
		}
	}
	return out, sc.Err()
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Dirs mounts nothing: tmpfs volumes stay plain directories. For hollow
// nodes, whose pods never run and which may run unprivileged.
type Dirs struct{}

// MountTmpfs does nothing.
func (Dirs) MountTmpfs(string, int64) error { return nil }

// Unmount does nothing.
func (Dirs) Unmount(string) error { return nil }

// IsMount says no.
func (Dirs) IsMount(string) (bool, error) { return false, nil }

// MountsUnder finds none.
func (Dirs) MountsUnder(string) ([]string, error) { return nil, nil }
