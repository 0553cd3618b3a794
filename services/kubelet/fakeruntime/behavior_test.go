package fakeruntime

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestCommandMissing(t *testing.T) {
	e := start(t, Config{})
	e.pull(t, "tugboat.local/app:v1")
	e.pull(t, "tugboat.local/shell:v1")
	if err := e.rt.SetCommandMissing("tugboat.local/app:v1", "/bin/nope"); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.SetCommandMissing("", "/bin/never"); err != nil {
		t.Fatal(err)
	}
	sb := e.runPod(t, sandboxConfig("web", "default", nil))
	tests := []struct {
		name, image string
		command     []string
		args        []string
		fails       bool
	}{
		{name: "missing command", image: "tugboat.local/app:v1", command: []string{"/bin/nope"}, fails: true},
		{name: "missing as first arg", image: "tugboat.local/app:v1", args: []string{"/bin/nope", "-x"}, fails: true},
		{name: "other command", image: "tugboat.local/app:v1", command: []string{"/bin/app"}},
		{name: "other image", image: "tugboat.local/shell:v1", command: []string{"/bin/nope"}},
		{name: "missing in every image", image: "tugboat.local/shell:v1", command: []string{"/bin/never"}, fails: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := containerConfig("c", tt.image, tt.command...)
			cfg.Args = tt.args
			cfg.Metadata.Attempt = uint32(i)
			_, err := e.rs.CreateContainer(e.ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb, Config: cfg})
			if !tt.fails {
				if err != nil {
					t.Fatalf("CreateContainer: %v", err)
				}
				return
			}
			wantCode(t, err, codes.FailedPrecondition, `"c"`, "executable file not found in $PATH", executable(tt.command, tt.args))
		})
	}
	if got := e.rt.Counters().CreateFailures; got != 3 {
		t.Fatalf("CreateFailures = %d, want 3", got)
	}
}

func TestCreateContainerError(t *testing.T) {
	e := start(t, Config{})
	e.pull(t, "tugboat.local/app:v1")
	sb := e.runPod(t, sandboxConfig("web", "default", nil))
	e.rt.SetCreateContainerError(func(cfg *runtimeapi.ContainerConfig) error {
		switch cfg.Metadata.Name {
		case "denied":
			return status.Error(codes.PermissionDenied, "no")
		case "broken":
			return errors.New("disk full")
		}
		return nil
	})
	create := func(name string) error {
		_, err := e.rs.CreateContainer(e.ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb, Config: containerConfig(name, "tugboat.local/app:v1")})
		return err
	}
	wantCode(t, create("denied"), codes.PermissionDenied, "no")
	wantCode(t, create("broken"), codes.Unknown, `"broken"`, "disk full")
	if err := create("fine"); err != nil {
		t.Fatal(err)
	}
	e.rt.SetCreateContainerError(nil)
	if err := create("broken"); err != nil {
		t.Fatal(err)
	}
}

func TestExitContainer(t *testing.T) {
	e := start(t, Config{})
	tests := []struct {
		name       string
		code       int32
		reason     string
		wantReason string
	}{
		{"success", 0, "", "Completed"},
		{"failure", 1, "", "Error"},
		{"oom", 137, "OOMKilled", "OOMKilled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, id := e.runContainer(t, tt.name, "tugboat.local/app:v1")
			if err := e.rt.ExitContainer(id, tt.code, tt.reason); err != nil {
				t.Fatal(err)
			}
			st := e.containerStatus(t, id)
			if st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.ExitCode != tt.code || st.Reason != tt.wantReason || st.FinishedAt == 0 {
				t.Fatalf("status = %v", st)
			}
			err := e.rt.ExitContainer(id, 0, "")
			wantCode(t, err, codes.FailedPrecondition, id, "EXITED")
		})
	}
	wantCode(t, e.rt.ExitContainer("nope", 0, ""), codes.NotFound, `container "nope" not found`)
	if err := e.rt.ExitContainerWithMessage(e.create(t, e.runPod(t, sandboxConfig("m", "default", nil)),
		containerConfig("app", "tugboat.local/app:v1")), 1, "", "bye"); err == nil {
		t.Fatal("ExitContainer of a CREATED container succeeded")
	}
}

func TestBehaviorExit(t *testing.T) {
	tests := []struct {
		name       string
		behavior   Behavior
		wantCode   int32
		wantReason string
		atOnce     bool
	}{
		{"exits at start", Behavior{Exit: true, ExitCode: 1}, 1, "Error", true},
		{"completes at start", Behavior{Exit: true}, 0, "Completed", true},
		{"exits after a delay", Behavior{Exit: true, ExitAfter: 20 * time.Millisecond, ExitCode: 3, ExitReason: "Crashed", ExitMessage: "boom"}, 3, "Crashed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Config{})
			if err := e.rt.SetBehavior("tugboat.local/crash:v1", tt.behavior); err != nil {
				t.Fatal(err)
			}
			_, id := e.runContainer(t, "web", "tugboat.local/crash:v1")
			exited := func() bool {
				return e.containerStatus(t, id).State == runtimeapi.ContainerState_CONTAINER_EXITED
			}
			if tt.atOnce && !exited() {
				t.Fatal("container did not exit during StartContainer")
			}
			waitFor(t, "container to exit", exited)
			st := e.containerStatus(t, id)
			if st.ExitCode != tt.wantCode || st.Reason != tt.wantReason || st.Message != tt.behavior.ExitMessage {
				t.Fatalf("exit %d %q %q, want %d %q %q", st.ExitCode, st.Reason, st.Message, tt.wantCode, tt.wantReason, tt.behavior.ExitMessage)
			}
		})
	}
}

// TestCrashLoop restarts a crashing container the way the kubelet does: a
// new attempt after each exit.
func TestCrashLoop(t *testing.T) {
	e := start(t, Config{})
	if err := e.rt.SetBehavior("", Behavior{Exit: true, ExitCode: 2}); err != nil { // every image crashes
		t.Fatal(err)
	}
	e.pull(t, "tugboat.local/app:v1")
	sb := e.runPod(t, sandboxConfig("web", "default", nil))
	for attempt := range uint32(3) {
		cfg := containerConfig("app", "tugboat.local/app:v1")
		cfg.Metadata.Attempt = attempt
		id := e.create(t, sb, cfg)
		e.startContainer(t, id)
		got, ok := e.rt.FindContainer("default", "web", "app")
		if !ok || got.ID != id || got.Attempt != attempt || got.State != runtimeapi.ContainerState_CONTAINER_EXITED || got.ExitCode != 2 {
			t.Fatalf("attempt %d: FindContainer = %+v, %v", attempt, got, ok)
		}
	}
	if c := e.rt.Counters(); c.ContainersStarted != 3 || c.ContainersExited != 3 || c.RunningContainers != 0 {
		t.Fatalf("counters = %+v", c)
	}
}

func TestTimersStop(t *testing.T) {
	e := start(t, Config{})
	if err := e.rt.SetBehavior("tugboat.local/slow:v1", Behavior{Exit: true, ExitAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	_, stopped := e.runContainer(t, "a", "tugboat.local/slow:v1")
	_, removed := e.runContainer(t, "b", "tugboat.local/slow:v1")
	_, closed := e.runContainer(t, "c", "tugboat.local/slow:v1")
	timer := func(id string) *time.Timer {
		e.rt.mu.Lock()
		defer e.rt.mu.Unlock()
		if c := e.rt.containers[id]; c != nil {
			return c.timer
		}
		return nil
	}
	if timer(stopped) == nil {
		t.Fatal("no exit timer armed")
	}
	if _, err := e.rs.StopContainer(e.ctx, &runtimeapi.StopContainerRequest{ContainerId: stopped, Timeout: 10}); err != nil {
		t.Fatal(err)
	}
	e.rt.mu.Lock()
	removedC := e.rt.containers[removed]
	e.rt.mu.Unlock()
	if _, err := e.rs.RemoveContainer(e.ctx, &runtimeapi.RemoveContainerRequest{ContainerId: removed}); err != nil {
		t.Fatal(err)
	}
	e.rt.Close()
	e.rt.mu.Lock()
	removedTimer := removedC.timer
	e.rt.mu.Unlock()
	if timer(stopped) != nil || removedTimer != nil || timer(closed) != nil {
		t.Fatal("an exit timer is left after stop, remove or Close")
	}
}

func TestExecSync(t *testing.T) {
	e := start(t, Config{})
	_, id := e.runContainer(t, "web", "tugboat.local/app:v1")
	exec := func(cmd ...string) (*runtimeapi.ExecSyncResponse, error) {
		return e.rs.ExecSync(e.ctx, &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: 1})
	}
	if resp, err := exec("true"); err != nil || resp.ExitCode != 0 {
		t.Fatalf("default exec = %v, %v", resp, err)
	}
	e.rt.SetExecFunc(func(c ContainerInfo, cmd []string) ExecResult {
		switch cmd[0] {
		case "cat":
			return ExecResult{Stdout: []byte(c.Name + " in " + c.PodName)}
		case "probe":
			return ExecResult{Stderr: []byte("not ready"), ExitCode: 1}
		case "hang":
			return ExecResult{Err: status.Error(codes.DeadlineExceeded, "command timed out")}
		}
		return ExecResult{Err: errors.New("no such command")}
	})
	tests := []struct {
		cmd            string
		stdout, stderr string
		exit           int32
		code           codes.Code
	}{
		{cmd: "cat", stdout: "app in web"},
		{cmd: "probe", stderr: "not ready", exit: 1},
		{cmd: "hang", code: codes.DeadlineExceeded},
		{cmd: "other", code: codes.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			resp, err := exec(tt.cmd)
			if tt.code != codes.OK {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil || string(resp.Stdout) != tt.stdout || string(resp.Stderr) != tt.stderr || resp.ExitCode != tt.exit {
				t.Fatalf("exec %s = %v, %v", tt.cmd, resp, err)
			}
		})
	}
	_, err := exec()
	wantCode(t, err, codes.InvalidArgument, id)
	if err := e.rt.ExitContainer(id, 0, ""); err != nil {
		t.Fatal(err)
	}
	_, err = exec("cat")
	wantCode(t, err, codes.FailedPrecondition, id, "not RUNNING")
	if got := e.rt.Counters().ExecSyncs; got != 5 {
		t.Fatalf("ExecSyncs = %d, want 5", got)
	}
}
