package fakeruntime

import (
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StopMode is how a container reacts to the SIGTERM of StopContainer.
type StopMode int

const (
	// StopTerminated: the process dies of SIGTERM at once, exit code 143.
	StopTerminated StopMode = iota
	// StopGraceful: the process handles SIGTERM and exits 0 at once.
	StopGraceful
	// StopIgnoreTerm: the process ignores SIGTERM; StopContainer waits its
	// timeout, then kills it with SIGKILL, exit code 137.
	StopIgnoreTerm
)

// Exit codes of a signalled process (128 + signal).
const (
	exitTerminated = 143 // SIGTERM
	exitKilled     = 137 // SIGKILL
)

// Behavior is what the containers of an image do once started. The zero
// value runs until stopped, writes nothing and dies of SIGTERM.
type Behavior struct {
	// Exit makes the container exit by itself ExitAfter after it starts
	// (during StartContainer when ExitAfter is 0) with ExitCode. ExitReason
	// defaults to "Completed" for code 0 and "Error" otherwise.
	Exit        bool
	ExitAfter   time.Duration
	ExitCode    int32
	ExitReason  string
	ExitMessage string
	// Logs are written to the container's log when it starts.
	Logs []LogLine
	// Stop is the reaction to StopContainer.
	Stop StopMode
}

// commandKey names an executable made missing in an image ("" for any).
type commandKey struct{ image, cmd string }

// SetBehavior sets the behaviour of containers created later from image
// (any reference form; "" sets the default for images without one).
func (r *Runtime) SetBehavior(image string, b Behavior) error {
	key := ""
	if image != "" {
		p, err := parseRef(image)
		if err != nil {
			return err
		}
		key = p.String()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if key == "" {
		r.defaultBehavior = &b
		return nil
	}
	if r.behaviors == nil {
		r.behaviors = make(map[string]*Behavior)
	}
	r.behaviors[key] = &b
	return nil
}

// behaviorFor returns the behaviour for a container of img. Callers hold
// r.mu.
func (r *Runtime) behaviorFor(img *image) *Behavior {
	for _, k := range img.keys() {
		if b := r.behaviors[k]; b != nil {
			return b
		}
	}
	return r.defaultBehavior
}

// SetCommandMissing makes CreateContainer fail, as for an executable not
// found in $PATH, for containers of image ("" for any image) whose command
// (else first argument) is cmd. The kubelet reports CreateContainerError.
func (r *Runtime) SetCommandMissing(image, cmd string) error {
	key := commandKey{cmd: cmd}
	if image != "" {
		p, err := parseRef(image)
		if err != nil {
			return err
		}
		key.image = p.String()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.missingCmds == nil {
		r.missingCmds = make(map[commandKey]struct{})
	}
	r.missingCmds[key] = struct{}{}
	return nil
}

// commandMissing reports whether exe was made missing for img. Callers hold
// r.mu.
func (r *Runtime) commandMissing(img *image, exe string) bool {
	if len(r.missingCmds) == 0 {
		return false
	}
	if _, ok := r.missingCmds[commandKey{cmd: exe}]; ok {
		return true
	}
	for _, k := range img.keys() {
		if _, ok := r.missingCmds[commandKey{image: k, cmd: exe}]; ok {
			return true
		}
	}
	return false
}

// SetCreateContainerError installs a predicate run on every CreateContainer
// config before anything else; a non-nil error fails the call (a gRPC status
// error as is, another error as Unknown). nil removes it. fn must not block.
func (r *Runtime) SetCreateContainerError(fn func(*runtimeapi.ContainerConfig) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.createErr = fn
}
