//go:build e2e

package stream

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The e2e tests run a private containerd (root, state, socket, runc root
// and CNI dirs in a temp dir) with a busybox image made here and imported
// with ctr. They need root, containerd 1.6+, runc, ctr and a static busybox
// (Debian: containerd runc busybox-static). Run with:
//
//	sudo go test -tags e2e -race -count=1 -run E2E ./services/kubelet/stream/

// e2eImage is the test image: /bin/busybox and its applets. Its entrypoint
// sleeps, so it also serves as the sandbox (pause) image.
const e2eImage = "tugboat.local/e2e/busybox:1"

// busyboxApplets are linked to /bin/busybox in the image.
var busyboxApplets = []string{"sh", "cat", "echo", "sleep", "stty", "seq", "ls", "true", "false", "tty", "head", "tr"}

// criHarness is a running private containerd and a CRI client to it.
type criHarness struct {
	dir  string
	sock string
	conn *grpc.ClientConn
	rt   runtimeapi.RuntimeServiceClient
}

// startContainerd starts a private containerd, imports the test image and
// registers a cleanup that removes every pod, stops every process it
// started (containerd, shims, containers) by PID and removes its dir.
func startContainerd(t *testing.T) *criHarness {
	t.Helper()
	for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "busybox"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("e2e needs %s in PATH (Debian: containerd runc busybox-static): %v", bin, err)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatal("e2e needs root to run containerd")
	}
	// A short dir: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "tgb-stream-")
	if err != nil {
		t.Fatal(err)
	}
	h := &criHarness{dir: dir, sock: filepath.Join(dir, "c.sock")}
	for _, d := range []string{"cni/net.d", "cni/bin", "pods"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(containerdConfig(dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		h.cleanup(t, cmd.Process, exited)
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("containerd log (tail):\n%s", tail(string(b), 4000))
			}
		}
		h.removeDir(t)
	})

	// Closed by cleanup, after the pods are removed through it.
	conn, err := grpc.NewClient("unix://"+h.sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	h.conn = conn
	h.rt = runtimeapi.NewRuntimeServiceClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := h.rt.Version(ctx, &runtimeapi.VersionRequest{})
		cancel()
		if err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("containerd exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd not ready after 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	archive := filepath.Join(dir, "image.tar")
	if err := writeImageArchive(archive, e2eImage, []string{"/bin/sleep", "2147483647"}); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ctr", "--address", h.sock, "-n", "k8s.io", "images", "import", archive).CombinedOutput(); err != nil {
		t.Fatalf("ctr images import: %v\n%s", err, out)
	}
	return h
}

func containerdConfig(dir string) string {
	return fmt.Sprintf(`version = 2
root = "%[1]s/root"
state = "%[1]s/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "%[1]s/c.sock"

[ttrpc]
  address = "%[1]s/c.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "%[1]s/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "%[2]s"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "%[1]s/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "%[1]s/cni/bin"
    conf_dir = "%[1]s/cni/net.d"
`, dir, e2eImage)
}

// cleanup removes every pod through CRI, stops containerd, then force-deletes
// any container left in our runc root and kills any shim of our socket.
func (h *criHarness) cleanup(t *testing.T, containerd *os.Process, exited <-chan struct{}) {
	if h.rt != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if resp, err := h.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{}); err == nil {
			for _, p := range resp.GetItems() {
				if _, err := h.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.GetId()}); err != nil {
					t.Logf("stop sandbox %s: %v", p.GetId(), err)
				}
				if _, err := h.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.GetId()}); err != nil {
					t.Logf("remove sandbox %s: %v", p.GetId(), err)
				}
			}
		}
		cancel()
		h.conn.Close()
	}
	_ = containerd.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		_ = containerd.Kill()
		<-exited
	}
	// Whatever survived a failed run: containers in our runc root, shims
	// serving our socket. Each is ended by its own ID or PID; a killed
	// shim's socket (in /run/containerd/s, named in its task's address
	// file) is removed.
	shimSockets, _ := filepath.Glob(filepath.Join(h.dir, "state", "io.containerd.runtime.v2.task", "*", "*", "address"))
	runcRoot := filepath.Join(h.dir, "runc", "k8s.io")
	if out, err := exec.Command("runc", "--root", runcRoot, "list", "-q").Output(); err == nil {
		for _, id := range strings.Fields(string(out)) {
			t.Logf("force-deleting leftover container %s", id)
			_ = exec.Command("runc", "--root", runcRoot, "delete", "--force", id).Run()
		}
	}
	pids := shimPIDs(h.sock)
	for _, pid := range pids {
		t.Logf("killing leftover shim %d", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(pids) > 0 {
		for _, f := range shimSockets {
			if b, err := os.ReadFile(f); err == nil {
				if sock, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "unix://"); ok && strings.HasPrefix(sock, "/run/containerd/s/") {
					_ = os.Remove(sock)
				}
			}
		}
	}
}

// shimPIDs lists the containerd-shim processes started for socket sock.
func shimPIDs(sock string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if !strings.Contains(args[0], "containerd-shim") {
			continue
		}
		for i, a := range args {
			if a == "-address" && i+1 < len(args) && args[i+1] == sock {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// removeDir unmounts whatever is still mounted under the dir, deepest
// first, and removes it.
func (h *criHarness) removeDir(t *testing.T) {
	f, err := os.Open("/proc/self/mountinfo")
	if err == nil {
		var mounts []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 4 && strings.HasPrefix(fields[4], h.dir+"/") {
				mounts = append(mounts, fields[4])
			}
		}
		f.Close()
		sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
		for _, m := range mounts {
			if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
				t.Logf("unmount %s: %v", m, err)
			}
		}
	}
	if err := os.RemoveAll(h.dir); err != nil {
		t.Errorf("remove %s: %v", h.dir, err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// runPod starts a host-network pod with one container "c" running cmd and
// returns the container's ID and log path.
func (h *criHarness) runPod(t *testing.T, name string, cmd ...string) (id, logPath string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	uid := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	logDir := filepath.Join(h.dir, "pods", uid)
	sandbox := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Uid: uid, Namespace: "default"},
		LogDirectory: logDir,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE},
			},
		},
	}
	ps, err := h.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: sandbox})
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	cc, err := h.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId: ps.GetPodSandboxId(),
		Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: "c"},
			Image:    &runtimeapi.ImageSpec{Image: e2eImage},
			Command:  cmd,
			LogPath:  "c/0.log",
			Linux:    &runtimeapi.LinuxContainerConfig{},
		},
		SandboxConfig: sandbox,
	})
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if _, err := h.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: cc.GetContainerId()}); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	return cc.GetContainerId(), filepath.Join(logDir, "c", "0.log")
}

// writeImageArchive writes an OCI image layout tar holding one image named
// name: a layer with /bin/busybox (this machine's static one) and its
// applets, and a config with entrypoint.
func writeImageArchive(path, name string, entrypoint []string) error {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return err
	}
	bin, err := os.ReadFile(bb)
	if err != nil {
		return err
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	mtime := time.Unix(0, 0)
	for _, hdr := range []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: mtime},
	} {
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin)), ModTime: mtime}); err != nil {
		return err
	}
	if _, err := tw.Write(bin); err != nil {
		return err
	}
	for _, a := range busyboxApplets {
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777, ModTime: mtime}); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}

	blobs := map[string][]byte{}
	add := func(b []byte) string {
		sum := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(sum[:])
		blobs[d] = b
		return d
	}
	layerDigest := add(layer.Bytes())
	config, _ := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config":       map[string]any{"Entrypoint": entrypoint, "Env": []string{"PATH=/bin"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
	})
	configDigest := add(config)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": len(config)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": layer.Len()}},
	})
	manifestDigest := add(manifest)
	tag := name[strings.LastIndex(name, ":")+1:]
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"manifests": []any{map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json",
			"digest":    manifestDigest,
			"size":      len(manifest),
			"platform":  map[string]any{"architecture": runtime.GOARCH, "os": "linux"},
			"annotations": map[string]string{
				"io.containerd.image.name":          name,
				"org.opencontainers.image.ref.name": tag,
			},
		}},
	})

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	aw := tar.NewWriter(f)
	put := func(name string, b []byte) error {
		if err := aw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b)), ModTime: mtime}); err != nil {
			return err
		}
		_, err := aw.Write(b)
		return err
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := put("index.json", index); err != nil {
		return err
	}
	for d, b := range blobs {
		if err := put("blobs/sha256/"+strings.TrimPrefix(d, "sha256:"), b); err != nil {
			return err
		}
	}
	if err := aw.Close(); err != nil {
		return err
	}
	return f.Sync()
}
