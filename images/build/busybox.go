package main

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Files of the busybox layer besides busybox and its applet links.
const (
	passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	group  = "root:x:0:\nnobody:x:65534:\n"
	hosts  = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
)

// shims stand in for commands the tutorials use that Debian's busybox has
// no applet for. An applet of the same name wins over a shim.
var shims = map[string]string{
	// printenv [NAME...]: the environment, or the values of NAMEs.
	"printenv": `#!/bin/sh
# printenv: Debian's busybox has no printenv applet.
[ $# -eq 0 ] && exec env
rc=0
for n in "$@"; do
	case $n in
	'' | [0-9]* | *[!A-Za-z0-9_]*) rc=1 ;;
	*) eval "if [ -n \"\${$n+x}\" ]; then printf '%s\n' \"\$$n\"; else rc=1; fi" ;;
	esac
done
exit $rc
`,
	// bash: busybox's ash, for "kubectl exec ... -- bash" and "bash -c".
	"bash": `#!/bin/sh
# bash: busybox ash stands in for bash.
exec /bin/sh "$@"
`,
	// curl [-sSfL] URL: GET a URL to stdout through wget.
	"curl": `#!/bin/sh
# curl: "curl [-sSfL] URL" through busybox wget; other options are not supported.
url=
for a in "$@"; do
	case $a in
	- | -*[!sSfL]*) echo "curl: $a: not supported (this curl is busybox wget)" >&2; exit 2 ;;
	-*) ;;
	*) url=$a ;;
	esac
done
[ -n "$url" ] || { echo "usage: curl [-sSfL] URL" >&2; exit 2; }
exec wget -q -O - "$url"
`,
}

// busyboxLayer is the base layer of the shell and sise images: the static
// busybox at path as /bin/busybox, a /bin link per applet, the shims, a
// minimal /etc, /tmp and /root.
func busyboxLayer(ctx context.Context, path string) (v1.Layer, error) {
	if err := checkStatic(path); err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("busybox: %w", err)
	}
	applets, err := listApplets(ctx, path)
	if err != nil {
		return nil, err
	}
	files := []file{
		dir("bin", 0o755),
		regular("bin/busybox", 0o755, bin),
		dir("etc", 0o755),
		regular("etc/passwd", 0o644, []byte(passwd)),
		regular("etc/group", 0o644, []byte(group)),
		regular("etc/hosts", 0o644, []byte(hosts)),
		dir("root", 0o700),
		dir("tmp", 0o1777),
		symlink("usr/bin/env", "/bin/env"),
	}
	for _, a := range applets {
		files = append(files, symlink("bin/"+a, "busybox"))
	}
	for name, script := range shims {
		if !slices.Contains(applets, name) {
			files = append(files, regular("bin/"+name, 0o755, []byte(script)))
		}
	}
	return newLayer(files)
}

// listApplets runs busybox --list: the applet names, one a line.
func listApplets(ctx context.Context, path string) ([]string, error) {
	out, err := exec.CommandContext(ctx, path, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox: %s --list: %w", path, err)
	}
	var applets []string
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			applets = append(applets, a)
		}
	}
	if !slices.Contains(applets, "sh") {
		return nil, fmt.Errorf("busybox: %s has no sh applet", path)
	}
	return applets, nil
}

// elfMachines maps GOARCH to the ELF machine of its binaries.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386,
	"riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390,
}

// checkStatic makes sure path is a statically linked ELF binary for this
// machine: an image without libc can run nothing else.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("busybox: %s (install Debian's busybox-static, see hack/deps.sh): %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("busybox: %s is dynamically linked; want the static one (busybox-static)", path)
		}
	}
	if m, ok := elfMachines[runtime.GOARCH]; ok && f.Machine != m {
		return fmt.Errorf("busybox: %s is for %v, not %s", path, f.Machine, runtime.GOARCH)
	}
	return nil
}
