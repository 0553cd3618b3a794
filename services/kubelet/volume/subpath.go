package volume

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// errEscapes is a subPath that leaves its volume: an absolute or ".." path,
// or a symlink inside the volume (which a container may have made) that
// points out of it.
var errEscapes = errors.New("resolves outside the volume")

// maxLinks bounds the symlinks followed while resolving one subPath, as the
// kernel's own limit does (ELOOP).
const maxLinks = 40

// useOpenat2 says whether to let the kernel resolve beneath the volume
// (openat2 with RESOLVE_BENEATH, Linux 5.6); otherwise, or when the kernel
// says ENOSYS, the walk is done here one component at a time. A variable so
// that tests cover both.
var useOpenat2 = true

// resolveSubPath returns the real host path of sub beneath the volume
// directory root, creating missing directories. Symlinks are followed only
// while they stay inside the volume: a container can create "x -> /" in an
// emptyDir, and "subPath: x" must not bind-mount the host's root
// (CVE-2017-1002101). Every step is an *at call on a descriptor already
// inside the volume, so a path swapped meanwhile cannot lead out either.
func resolveSubPath(root, sub string) (string, error) {
	clean := filepath.Clean(sub)
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", errEscapes
	}
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("open volume %s: %w", root, err)
	}
	defer unix.Close(rootFd)
	var fd int
	if clean == "." {
		fd, err = unix.Dup(rootFd)
	} else {
		fd, err = openBeneath(rootFd, clean)
	}
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	realRoot, err := fdPath(rootFd)
	if err != nil {
		return "", err
	}
	real, err := fdPath(fd)
	if err != nil {
		return "", err
	}
	// Defence in depth: what the descriptor names must be inside the volume.
	if real != realRoot && !strings.HasPrefix(real, realRoot+"/") {
		return "", errEscapes
	}
	return real, nil
}

// fdPath is the path the kernel has for an open descriptor.
func fdPath(fd int) (string, error) {
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", fmt.Errorf("path of descriptor %d: %w", fd, err)
	}
	return p, nil
}

// openBeneath opens rel (clean, relative, not "..") beneath rootFd as an
// O_PATH descriptor, creating each missing component as a directory.
func openBeneath(rootFd int, rel string) (int, error) {
	if useOpenat2 {
		fd, err := openat2Beneath(rootFd, rel)
		if !errors.Is(err, unix.ENOSYS) {
			return fd, err
		}
	}
	return walkBeneath(rootFd, rel)
}

// openat2Beneath lets the kernel refuse any escape (RESOLVE_BENEATH: no
// absolute symlink, no ".." above rootFd; no /proc magic links). Missing
// directories are created by the walk, under the same rule, and the result
// is opened by the kernel again.
func openat2Beneath(rootFd int, rel string) (int, error) {
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(rootFd, rel, how)
	if errors.Is(err, unix.ENOENT) {
		made, werr := walkBeneath(rootFd, rel)
		if werr != nil {
			return -1, werr
		}
		unix.Close(made)
		fd, err = unix.Openat2(rootFd, rel, how)
	}
	switch {
	case errors.Is(err, unix.EXDEV), errors.Is(err, unix.ELOOP):
		return -1, errEscapes
	case err != nil:
		return -1, fmt.Errorf("open %s: %w", rel, err)
	}
	return fd, nil
}

// walkBeneath resolves rel one component at a time with openat(O_NOFOLLOW)
// on the descriptor of the directory reached so far, expanding relative
// symlinks itself and refusing absolute ones and ".." above rootFd: the
// same rule as RESOLVE_BENEATH, for kernels without openat2.
func walkBeneath(rootFd int, rel string) (int, error) {
	first, err := unix.Dup(rootFd)
	if err != nil {
		return -1, fmt.Errorf("dup: %w", err)
	}
	stack := []int{first} // descriptors from the root down to where we are
	result := -1
	defer func() {
		for _, fd := range stack {
			if fd != result {
				unix.Close(fd)
			}
		}
	}()
	todo := strings.Split(rel, "/")
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(stack) == 1 {
				return -1, errEscapes
			}
			unix.Close(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			continue
		}
		cur := stack[len(stack)-1]
		fd, err := unix.Openat(cur, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			if err = unix.Mkdirat(cur, name, 0o777); err == nil || errors.Is(err, unix.EEXIST) {
				fd, err = unix.Openat(cur, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			}
		}
		if err != nil {
			return -1, fmt.Errorf("open %s: %w", name, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("stat %s: %w", name, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target, err := readlinkat(fd)
			unix.Close(fd)
			if err != nil {
				return -1, fmt.Errorf("read link %s: %w", name, err)
			}
			if links++; links > maxLinks || filepath.IsAbs(target) {
				return -1, errEscapes
			}
			todo = append(strings.Split(target, "/"), todo...)
			continue
		}
		if len(todo) > 0 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			unix.Close(fd)
			return -1, fmt.Errorf("%s: %w", name, unix.ENOTDIR)
		}
		stack = append(stack, fd)
	}
	result = stack[len(stack)-1]
	return result, nil
}

// readlinkat reads the symlink an O_PATH|O_NOFOLLOW descriptor holds.
func readlinkat(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
