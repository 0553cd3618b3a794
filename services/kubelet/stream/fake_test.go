package stream

import (
	"context"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeRuntime is the part of a CRI runtime this package calls:
// ContainerStatus with a state the test sets, and Exec.
type fakeRuntime struct {
	runtimeapi.RuntimeServiceClient // nil: other methods are not called

	mu          sync.Mutex
	state       runtimeapi.ContainerState
	statusErr   error
	statusCalls int
	// onStatus, when set, runs once in the next ContainerStatus call
	// (with mu held) before it answers.
	onStatus func(*fakeRuntime)
	execErr  error
	// execURL is the streaming URL Exec answers; the request's command and
	// streams are added as query parameters for fakeStreaming.
	execURL  string
	lastExec *runtimeapi.ExecRequest
}

func (f *fakeRuntime) ContainerStatus(ctx context.Context, req *runtimeapi.ContainerStatusRequest, _ ...grpc.CallOption) (*runtimeapi.ContainerStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusCalls++
	if hook := f.onStatus; hook != nil {
		f.onStatus = nil
		hook(f)
	}
	if f.statusErr != nil {
		return nil, f.statusErr
	}
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{Id: req.GetContainerId(), State: f.state}}, nil
}

func (f *fakeRuntime) Exec(ctx context.Context, req *runtimeapi.ExecRequest, _ ...grpc.CallOption) (*runtimeapi.ExecResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastExec = req
	if f.execErr != nil {
		return nil, f.execErr
	}
	q := url.Values{"cmd": req.GetCmd()}
	for name, on := range map[string]bool{"stdin": req.GetStdin(), "stdout": req.GetStdout(), "stderr": req.GetStderr(), "tty": req.GetTty()} {
		if on {
			q.Set(name, "1")
		}
	}
	return &runtimeapi.ExecResponse{Url: f.execURL + "?" + q.Encode()}, nil
}

func (f *fakeRuntime) set(state runtimeapi.ContainerState, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state, f.statusErr = state, err
}

func (f *fakeRuntime) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statusCalls
}

func running() *fakeRuntime {
	return &fakeRuntime{state: runtimeapi.ContainerState_CONTAINER_RUNNING}
}

func exited() *fakeRuntime {
	return &fakeRuntime{state: runtimeapi.ContainerState_CONTAINER_EXITED}
}

// base is the time of the first line the tests write.
var base = time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)

// rec is one CRI log record, its time sec seconds after base.
func rec(sec int, stream, tag, text string) string {
	return base.Add(time.Duration(sec)*time.Second).Format(time.RFC3339Nano) + " " + stream + " " + tag + " " + text + "\n"
}

// appendLog appends records to the file at path, creating it.
func appendLog(t *testing.T, path string, records ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(records, "")); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
