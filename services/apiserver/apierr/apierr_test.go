package apierr

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tugboat-sh/tugboat/machinery/validation"

	"google.golang.org/grpc/codes"
)

func TestFromError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		code     codes.Code
		httpCode int32
		reason   string
		msg      string
	}{
		{"not found", NotFound("pods", "x"), codes.NotFound, 404, "NotFound", `pods "x" not found`},
		{"wrapped", fmt.Errorf("get: %w", AlreadyExists("pods", "x")), codes.AlreadyExists, 409, "AlreadyExists", `pods "x" already exists`},
		{"stale", StaleWrite("pods", "x"), codes.Aborted, 409, "Conflict", `Operation cannot be fulfilled on pods "x": the object has been modified; please apply your changes to the latest version and try again`},
		{"invalid", Invalid("Pod", "x", validation.List{{Field: "spec.containers[0].image", Type: validation.Required}}), codes.InvalidArgument, 422, "Invalid", `Pod "x" is invalid: spec.containers[0].image: Required value`},
		{"gone", Gone("too old resource version: %d (%d)", 1, 5), codes.OutOfRange, 410, "Expired", "too old resource version: 1 (5)"},
		{"not ready", NotReady("pod %s does not have a host assigned", "x"), codes.FailedPrecondition, 400, "BadRequest", "pod x does not have a host assigned"},
		{"unavailable", Unavailable("node %q is gone", "n"), codes.Unavailable, 503, "ServiceUnavailable", `node "n" is gone`},
		{"plain", errors.New("disk on fire"), codes.Internal, 500, "InternalError", "Internal error occurred: disk on fire"},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, 504, "Timeout", "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := FromError(tt.err)
			if st.Code() != tt.code {
				t.Fatalf("code = %v, want %v", st.Code(), tt.code)
			}
			s := StatusOf(st)
			if s.Code != tt.httpCode || s.Reason != tt.reason || s.Message != tt.msg {
				t.Fatalf("status = %d %q %q; want %d %q %q", s.Code, s.Reason, s.Message, tt.httpCode, tt.reason, tt.msg)
			}
			if s.Kind != "Status" || s.Status != "Failure" {
				t.Fatalf("status shape = %q %q", s.Kind, s.Status)
			}
		})
	}
}

func TestInvalidListsEveryField(t *testing.T) {
	err := Invalid("Pod", "x", validation.List{
		{Field: "metadata.name", Type: validation.Invalid, Value: "X", Detail: "a lowercase RFC 1123 subdomain"},
		{Field: "spec.containers", Type: validation.Required},
	})
	s := StatusOf(FromError(err))
	if len(s.Details.Causes) != 2 || s.Details.Causes[1].Field != "spec.containers" {
		t.Fatalf("causes = %v", s.Details.Causes)
	}
	want := `Pod "x" is invalid: [metadata.name: Invalid value: "X": a lowercase RFC 1123 subdomain, spec.containers: Required value]`
	if s.Message != want {
		t.Fatalf("message = %q, want %q", s.Message, want)
	}
}
