// Package apierr defines the apiserver's errors. Each carries a Kubernetes
// Status (reason, message, HTTP code) and a gRPC code; FromError is the one
// place where any error becomes a gRPC status, and the REST layer renders the
// Status it carries.
package apierr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/validation"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is an API error.
type Error struct {
	Code   codes.Code
	Status *metav1.Status
}

func (e *Error) Error() string { return e.Status.GetMessage() }

// GRPCStatus makes Error a gRPC status carrying the Kubernetes Status as detail.
func (e *Error) GRPCStatus() *status.Status {
	st := status.New(e.Code, e.Status.GetMessage())
	if withDetail, err := st.WithDetails(e.Status); err == nil {
		return withDetail
	}
	return st
}

func newError(code codes.Code, httpCode int32, reason, message string, details *metav1.StatusDetails) *Error {
	return &Error{Code: code, Status: &metav1.Status{
		ApiVersion: "v1",
		Kind:       "Status",
		Metadata:   &metav1.ListMeta{},
		Status:     "Failure",
		Message:    message,
		Reason:     reason,
		Details:    details,
		Code:       httpCode,
	}}
}

// NotFound says the named object does not exist.
func NotFound(resource, name string) *Error {
	return newError(codes.NotFound, http.StatusNotFound, "NotFound",
		fmt.Sprintf("%s %q not found", resource, name), &metav1.StatusDetails{Name: name, Kind: resource})
}

// AlreadyExists says an object of that name exists.
func AlreadyExists(resource, name string) *Error {
	return newError(codes.AlreadyExists, http.StatusConflict, "AlreadyExists",
		fmt.Sprintf("%s %q already exists", resource, name), &metav1.StatusDetails{Name: name, Kind: resource})
}

// Conflict says a write lost a race (a stale resourceVersion) or a precondition failed.
func Conflict(resource, name, why string) *Error {
	return newError(codes.Aborted, http.StatusConflict, "Conflict",
		fmt.Sprintf("Operation cannot be fulfilled on %s %q: %s", resource, name, why),
		&metav1.StatusDetails{Name: name, Kind: resource})
}

// StaleWrite is the Conflict of an update made against an old resourceVersion.
func StaleWrite(resource, name string) *Error {
	return Conflict(resource, name, "the object has been modified; please apply your changes to the latest version and try again")
}

// Invalid says the object failed validation; each field error becomes a cause.
func Invalid(kind, name string, errs validation.List) *Error {
	causes := make([]*metav1.StatusCause, len(errs))
	for i, e := range errs {
		causes[i] = &metav1.StatusCause{Reason: "Field" + strings.ReplaceAll(e.Type, " ", ""), Message: e.Error(), Field: e.Field}
	}
	return newError(codes.InvalidArgument, http.StatusUnprocessableEntity, "Invalid",
		fmt.Sprintf("%s %q is invalid: %s", kind, name, errs.Error()),
		&metav1.StatusDetails{Name: name, Kind: kind, Causes: causes})
}

// BadRequest says the request itself is malformed.
func BadRequest(format string, args ...any) *Error {
	return newError(codes.InvalidArgument, http.StatusBadRequest, "BadRequest", fmt.Sprintf(format, args...), nil)
}

// NotReady says the object is not in a state that allows the request, such
// as the log of a pod that has no node yet: gRPC FailedPrecondition, and the
// 400 BadRequest Kubernetes answers.
func NotReady(format string, args ...any) *Error {
	return newError(codes.FailedPrecondition, http.StatusBadRequest, "BadRequest", fmt.Sprintf(format, args...), nil)
}

// Unavailable says a backend the request needs (a node's kubelet) cannot be
// reached now; the client may retry.
func Unavailable(format string, args ...any) *Error {
	return newError(codes.Unavailable, http.StatusServiceUnavailable, "ServiceUnavailable", fmt.Sprintf(format, args...), nil)
}

// Gone says a resourceVersion has been compacted away.
func Gone(format string, args ...any) *Error {
	return newError(codes.OutOfRange, http.StatusGone, "Expired", fmt.Sprintf(format, args...), nil)
}

// TooLarge says the object exceeds the size limit.
func TooLarge(format string, args ...any) *Error {
	return newError(codes.ResourceExhausted, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf(format, args...), nil)
}

// Exhausted says a range the request draws from (service IPs, node ports)
// has nothing left: gRPC ResourceExhausted, and the 500 Kubernetes answers.
func Exhausted(format string, args ...any) *Error {
	return newError(codes.ResourceExhausted, http.StatusInternalServerError, "InternalError", fmt.Sprintf(format, args...), nil)
}

// Forbidden says the request is refused for a reason of policy, e.g. a
// namespace that is being terminated or may not be deleted.
func Forbidden(resource, name, why string) *Error {
	return newError(codes.PermissionDenied, http.StatusForbidden, "Forbidden",
		fmt.Sprintf("%s %q is forbidden: %s", resource, name, why), &metav1.StatusDetails{Name: name, Kind: resource})
}

// MethodNotSupported says the resource does not support the verb.
func MethodNotSupported(resource, verb string) *Error {
	return newError(codes.Unimplemented, http.StatusMethodNotAllowed, "MethodNotAllowed",
		fmt.Sprintf("%s is not supported on resources of kind %q", verb, resource), &metav1.StatusDetails{Kind: resource})
}

// Timeout says the server could not finish in time.
func Timeout(format string, args ...any) *Error {
	return newError(codes.DeadlineExceeded, http.StatusGatewayTimeout, "Timeout", fmt.Sprintf(format, args...), nil)
}

// Internal wraps an unexpected error.
func Internal(err error) *Error {
	return newError(codes.Internal, http.StatusInternalServerError, "InternalError",
		fmt.Sprintf("Internal error occurred: %v", err), nil)
}

// FromError converts any error into a gRPC status: API errors keep their code
// and Status, context errors become Canceled or DeadlineExceeded, and anything
// else is an internal error.
func FromError(err error) *status.Status {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae.GRPCStatus()
	}
	if st, ok := status.FromError(err); ok {
		return st
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout("%v", err).GRPCStatus()
	}
	return Internal(err).GRPCStatus()
}

// StatusOf extracts the Kubernetes Status from a gRPC status, synthesising one
// from the code when the status carries none.
func StatusOf(st *status.Status) *metav1.Status {
	for _, d := range st.Details() {
		if s, ok := d.(*metav1.Status); ok {
			return s
		}
	}
	code, reason := HTTPFromCode(st.Code())
	return newError(st.Code(), int32(code), reason, st.Message(), nil).Status
}

// HTTPFromCode maps a gRPC code to the HTTP code and reason Kubernetes uses.
func HTTPFromCode(c codes.Code) (int, string) {
	switch c {
	case codes.OK:
		return http.StatusOK, ""
	case codes.NotFound:
		return http.StatusNotFound, "NotFound"
	case codes.AlreadyExists:
		return http.StatusConflict, "AlreadyExists"
	case codes.Aborted:
		return http.StatusConflict, "Conflict"
	case codes.InvalidArgument:
		return http.StatusBadRequest, "BadRequest"
	case codes.FailedPrecondition:
		return http.StatusUnprocessableEntity, "Invalid"
	case codes.OutOfRange:
		return http.StatusGone, "Expired"
	case codes.Unauthenticated:
		return http.StatusUnauthorized, "Unauthorized"
	case codes.PermissionDenied:
		return http.StatusForbidden, "Forbidden"
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests, "TooManyRequests"
	case codes.Unimplemented:
		return http.StatusMethodNotAllowed, "MethodNotAllowed"
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout, "Timeout"
	case codes.Unavailable:
		return http.StatusServiceUnavailable, "ServiceUnavailable"
	case codes.Canceled:
		return 499, "Canceled"
	}
	return http.StatusInternalServerError, "InternalError"
}
