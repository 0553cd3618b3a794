package stream

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	kubeletv1 "github.com/tugboat-sh/tugboat/gen/tugboat/kubelet/v1"
)

// collector runs one Log call in the background and gathers its output.
type collector struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	out strings.Builder
	err error
}

func collect(t *testing.T, c kubeletv1.KubeletServiceClient, opts *corev1.PodLogOptions) *collector {
	ctx, cancel := context.WithCancel(context.Background())
	col := &collector{cancel: cancel, done: make(chan struct{})}
	t.Cleanup(func() { cancel(); <-col.done })
	st, err := c.Log(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(col.done)
		for {
			chunk, err := st.Recv()
			col.mu.Lock()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					col.err = err
				}
				col.mu.Unlock()
				return
			}
			col.out.Write(chunk.GetData())
			col.mu.Unlock()
		}
	}()
	return col
}

func (col *collector) text() string {
	col.mu.Lock()
	defer col.mu.Unlock()
	return col.out.String()
}

func (col *collector) waitText(t *testing.T, want string) {
	t.Helper()
	eventually(t, "output "+want, func() bool { return col.text() == want })
}

// waitEnd waits for the stream to end and returns its error.
func (col *collector) waitEnd(t *testing.T) error {
	t.Helper()
	select {
	case <-col.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("log stream did not end; got %q", col.text())
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	return col.err
}

func (col *collector) ended() bool {
	select {
	case <-col.done:
		return true
	default:
		return false
	}
}

// followSetup is a log file with one line, a Server over a running fake
// container, and a client.
func followSetup(t *testing.T) (path string, rt *fakeRuntime, c kubeletv1.KubeletServiceClient) {
	path = filepath.Join(t.TempDir(), "0.log")
	appendLog(t, path, rec(0, "stdout", "F", "a"))
	rt = running()
	loc := &mapLocator{m: map[string]Container{"ns/p/c": {ID: "id", LogPath: path}}}
	return path, rt, serve(t, newTestServer(t, rt, loc))
}

var follow = &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "c", Follow: true}

func TestFollowUntilContainerStops(t *testing.T) {
	path, rt, c := followSetup(t)
	col := collect(t, c, follow)
	col.waitText(t, "a\n")
	appendLog(t, path, rec(1, "stderr", "F", "b"))
	col.waitText(t, "a\nb\n")
	// A line being written in two writes comes out once, whole.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	line := rec(2, "stdout", "F", "torn line")
	f.WriteString(line[:20])
	// The follower asks about the container only at the end of the file:
	// two more questions mean it has read up to the torn record.
	calls := rt.calls()
	eventually(t, "the follower at the torn end", func() bool { return rt.calls() >= calls+2 })
	f.WriteString(line[20:])
	f.Close()
	col.waitText(t, "a\nb\ntorn line\n")
	if col.ended() {
		t.Fatal("stream ended while the container runs")
	}
	// Lines written after the follower's last read, just before the runtime
	// says the container stopped, are not lost.
	rt.mu.Lock()
	rt.onStatus = func(f *fakeRuntime) {
		appendLog(t, path, rec(3, "stdout", "P", "last "), rec(3, "stdout", "F", "words"))
		f.state = runtimeapi.ContainerState_CONTAINER_EXITED
	}
	rt.mu.Unlock()
	if err := col.waitEnd(t); err != nil {
		t.Fatal(err)
	}
	if got := col.text(); got != "a\nb\ntorn line\nlast words\n" {
		t.Fatalf("got %q", got)
	}
}

func TestFollowExitedContainerEnds(t *testing.T) {
	path, rt, c := followSetup(t)
	rt.set(runtimeapi.ContainerState_CONTAINER_EXITED, nil)
	appendLog(t, path, rec(1, "stdout", "F", "b"))
	got, _, err := readLog(context.Background(), c, follow)
	if err != nil || got != "a\nb\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestFollowCancel(t *testing.T) {
	path, _, c := followSetup(t)
	col := collect(t, c, follow)
	col.waitText(t, "a\n")
	col.cancel()
	if err := col.waitEnd(t); status.Code(err) != codes.Canceled {
		t.Fatalf("got %v, want Canceled", err)
	}

	// The reader itself returns once its context is cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fl := newFollower(path, func(context.Context) (bool, error) { return true, nil }, 5*time.Millisecond, 10*time.Millisecond)
	defer fl.close()
	done := make(chan error, 1)
	go func() {
		opts := logOptions{tail: -1, limit: -1, follow: true}
		done <- newLogReader(opts, &chunker{send: func([]byte) error { return nil }, remain: -1}, testLogger(t), fl).read(ctx, f)
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reader did not return after cancel")
	}
}

func TestFollowRotation(t *testing.T) {
	path, rt, c := followSetup(t)
	col := collect(t, c, follow)
	col.waitText(t, "a\n")
	// The kubelet renames the file away; the runtime still writes to the old
	// one until it reopens the path.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendLog(t, path+".1", rec(1, "stdout", "F", "b"))
	col.waitText(t, "a\nb\n")
	appendLog(t, path+".1", rec(2, "stdout", "F", "c"))
	appendLog(t, path, rec(3, "stdout", "F", "d"))
	col.waitText(t, "a\nb\nc\nd\n")
	appendLog(t, path, rec(4, "stdout", "F", "e"))
	col.waitText(t, "a\nb\nc\nd\ne\n")
	rt.set(runtimeapi.ContainerState_CONTAINER_EXITED, nil)
	if err := col.waitEnd(t); err != nil {
		t.Fatal(err)
	}
}

func TestFollowTruncation(t *testing.T) {
	path, rt, c := followSetup(t)
	appendLog(t, path, rec(1, "stdout", "F", "b"))
	col := collect(t, c, follow)
	col.waitText(t, "a\nb\n")
	// copytruncate: the file is emptied in place and written anew.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendLog(t, path, rec(2, "stdout", "F", "c"))
	col.waitText(t, "a\nb\nc\n")
	rt.set(runtimeapi.ContainerState_CONTAINER_EXITED, nil)
	if err := col.waitEnd(t); err != nil {
		t.Fatal(err)
	}
}

func TestFollowTailZeroShowsOnlyNewLines(t *testing.T) {
	path, rt, c := followSetup(t)
	opts := &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "c", Follow: true, TailLines: ptr(int64(0))}
	col := collect(t, c, opts)
	// The tail offset is taken when the stream starts; poll until the
	// follower has asked about the container at least once.
	eventually(t, "a status call", func() bool { return rt.calls() > 0 })
	appendLog(t, path, rec(1, "stdout", "F", "new"))
	col.waitText(t, "new\n")
	rt.set(runtimeapi.ContainerState_CONTAINER_EXITED, nil)
	if err := col.waitEnd(t); err != nil {
		t.Fatal(err)
	}
}

func TestFollowLimitEnds(t *testing.T) {
	path, _, c := followSetup(t)
	opts := &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "c", Follow: true, LimitBytes: ptr(int64(4))}
	col := collect(t, c, opts)
	col.waitText(t, "a\n")
	appendLog(t, path, rec(1, "stdout", "F", "bcd"))
	if err := col.waitEnd(t); err != nil {
		t.Fatal(err)
	}
	if got := col.text(); got != "a\nbc" {
		t.Fatalf("got %q", got)
	}
}

func TestFollowRuntimeStatus(t *testing.T) {
	t.Run("container removed ends the stream", func(t *testing.T) {
		_, rt, c := followSetup(t)
		rt.set(0, status.Error(codes.NotFound, "no such container"))
		got, _, err := readLog(context.Background(), c, follow)
		if err != nil || got != "a\n" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("runtime unavailable keeps following", func(t *testing.T) {
		path, rt, c := followSetup(t)
		rt.set(0, status.Error(codes.Unavailable, "restarting"))
		col := collect(t, c, follow)
		col.waitText(t, "a\n")
		eventually(t, "status calls", func() bool { return rt.calls() > 3 })
		appendLog(t, path, rec(1, "stdout", "F", "b"))
		col.waitText(t, "a\nb\n")
		rt.set(runtimeapi.ContainerState_CONTAINER_EXITED, nil)
		if err := col.waitEnd(t); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("other runtime errors end with their code", func(t *testing.T) {
		_, rt, c := followSetup(t)
		rt.set(0, status.Error(codes.PermissionDenied, "nope"))
		_, _, err := readLog(context.Background(), c, follow)
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("got %v", err)
		}
	})
}
