package framework

import (
	"errors"
	"strconv"
	"strings"
)

// Code is the outcome of a plugin.
type Code int

// The codes a plugin returns. A nil *Status means Success.
const (
	// Success: the node passes (a filter) or the score is valid.
	Success Code = iota
	// Error: the plugin failed for a reason that is not the node's fault;
	// the scheduling attempt fails and the pod is retried with backoff.
	Error
	// Unschedulable: the node does not fit the pod now, but could once
	// other pods leave it (insufficient resources, a busy host port).
	Unschedulable
	// UnschedulableAndUnresolvable: the node does not fit the pod and
	// removing pods from it would not help (labels, taints, not ready).
	UnschedulableAndUnresolvable
)

var codeNames = [...]string{"Success", "Error", "Unschedulable", "UnschedulableAndUnresolvable"}

func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Status is a coded result with human-readable reasons, in the words of
// Kubernetes' scheduler ("Insufficient cpu"). A nil *Status is Success.
// Statuses are immutable once returned, so a plugin may return a shared one.
type Status struct {
	code    Code
	reasons []string
	err     error
}

// NewStatus returns a status with code and reasons.
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps err in an Error status; nil gives nil (Success).
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code returns the status code; Success for nil.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports whether s is nil or has the Success code.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsRejected reports whether the node was found not to fit the pod:
// Unschedulable or UnschedulableAndUnresolvable.
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// Reasons returns the reasons, each counted on its own in an
// unschedulable pod's message.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message joins the reasons with ", ".
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

// AsError returns nil for Success, the wrapped error for an Error status
// made by AsStatus, and an error holding the message otherwise.
func (s *Status) AsError() error {
	if s.IsSuccess() {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return errors.New(s.Message())
}
