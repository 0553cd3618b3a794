package command

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tugboat-sh/tugboat/client/config"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// kubeconfigError is a kubeconfig that could not be read.
type kubeconfigError struct{ err error }

func (e kubeconfigError) Error() string { return e.err.Error() }
func (e kubeconfigError) Unwrap() error { return e.err }

// Message renders err for the user as kubectl would: "Error from server
// (NotFound): pods "x" not found" for the apiserver's answers, one plain
// sentence for a missing kubeconfig or an unreachable server, "error: ..."
// for the rest. server is the apiserver's address, when known.
func Message(err error, server string) string {
	server = strings.TrimPrefix(strings.TrimPrefix(server, "http://"), "https://")
	var kc kubeconfigError
	if errors.As(err, &kc) {
		if errors.Is(err, config.ErrNoKubeconfig) {
			return "error: no kubeconfig to reach a cluster (" + strings.TrimPrefix(kc.err.Error(), config.ErrNoKubeconfig.Error()+": ") +
				"); start a local cluster with \"tug up\", which writes one, or pass --kubeconfig"
		}
		return "error: cannot use the kubeconfig: " + kc.err.Error()
	}
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return "error: " + err.Error()
	}
	st := se.GRPCStatus()
	switch st.Code() {
	case codes.Unavailable:
		if strings.Contains(st.Message(), "connection refused") {
			return fmt.Sprintf("The connection to the server %s was refused - did you specify the right host or port?", server)
		}
		if server != "" && (strings.Contains(st.Message(), "connection error") || strings.Contains(st.Message(), "name resolver") || strings.Contains(st.Message(), "no such host")) {
			return fmt.Sprintf("Unable to connect to the server %s: %s", server, lastPart(st.Message()))
		}
	case codes.DeadlineExceeded:
		if server != "" && !hasStatus(st) {
			return fmt.Sprintf("Unable to connect to the server %s: timed out", server)
		}
	case codes.Canceled:
		return "error: interrupted"
	}
	reason := reasonOf(st)
	return fmt.Sprintf("Error from server (%s): %s", reason, st.Message())
}

func hasStatus(st *status.Status) bool {
	for _, d := range st.Details() {
		if _, ok := d.(*metav1.Status); ok {
			return true
		}
	}
	return false
}

// reasonOf is the Kubernetes reason of a status: the Status detail the
// apiserver attaches, else one derived from the code.
func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if s, ok := d.(*metav1.Status); ok && s.GetReason() != "" {
			return s.GetReason()
		}
	}
	switch st.Code() {
	case codes.NotFound:
		return "NotFound"
	case codes.AlreadyExists:
		return "AlreadyExists"
	case codes.Aborted:
		return "Conflict"
	case codes.InvalidArgument:
		return "BadRequest"
	case codes.PermissionDenied:
		return "Forbidden"
	case codes.Unauthenticated:
		return "Unauthorized"
	case codes.Unavailable:
		return "ServiceUnavailable"
	case codes.DeadlineExceeded:
		return "Timeout"
	case codes.Unimplemented:
		return "MethodNotAllowed"
	}
	return "InternalError"
}

func lastPart(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}
