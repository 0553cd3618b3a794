package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"go.uber.org/zap"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// errorHandler renders any error of a gateway call as a Kubernetes Status
// whose code is the HTTP status of the response.
func errorHandler(log *zap.Logger) runtime.ErrorHandlerFunc {
	return func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		var httpErr *runtime.HTTPStatusError
		if errors.As(err, &httpErr) {
			reason := "BadRequest"
			if httpErr.HTTPStatus != http.StatusBadRequest {
				reason = http.StatusText(httpErr.HTTPStatus)
			}
			writeStatus(w, log, failure(httpErr.HTTPStatus, reason, httpErr.Err.Error()))
			return
		}
		st := apierr.StatusOf(status.Convert(err))
		if st.GetCode() >= http.StatusInternalServerError {
			log.Error("REST request failed", zap.String("method", r.Method),
				zap.String("path", r.URL.Path), zap.Error(err))
		}
		writeStatus(w, log, st)
	}
}

// routingErrorHandler answers paths and methods the gateway does not serve
// the way the Kubernetes apiserver does.
func routingErrorHandler(log *zap.Logger) runtime.RoutingErrorHandlerFunc {
	return func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, code int) {
		switch code {
		case http.StatusNotFound:
			writeStatus(w, log, notFound())
		case http.StatusMethodNotAllowed:
			writeStatus(w, log, methodNotAllowed())
		default:
			writeStatus(w, log, failure(code, "BadRequest", http.StatusText(code)))
		}
	}
}

func failure(code int, reason, message string) *metav1.Status {
	return &metav1.Status{
		ApiVersion: "v1",
		Kind:       "Status",
		Metadata:   &metav1.ListMeta{},
		Status:     "Failure",
		Message:    message,
		Reason:     reason,
		Details:    &metav1.StatusDetails{},
		Code:       int32(code),
	}
}

func notFound() *metav1.Status {
	return failure(http.StatusNotFound, "NotFound", "the server could not find the requested resource")
}

func methodNotAllowed() *metav1.Status {
	return failure(http.StatusMethodNotAllowed, "MethodNotAllowed", "the server does not allow this method on the requested resource")
}

// writeStatus writes a Status with its code as the HTTP status.
func writeStatus(w http.ResponseWriter, log *zap.Logger, st *metav1.Status) {
	st = proto.CloneOf(st)
	st.Kind, st.ApiVersion = "Status", "v1"
	if st.Metadata == nil {
		st.Metadata = &metav1.ListMeta{}
	}
	if st.Status == "" {
		st.Status = "Failure"
	}
	code := int(st.GetCode())
	if code < 100 || code > 999 {
		code = http.StatusInternalServerError
		st.Code = int32(code)
	}
	b, err := protojson.Marshal(st)
	if err != nil {
		log.Error("marshal Status failed", zap.Error(err))
		b = []byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"failed to marshal error","reason":"InternalError","code":500}`)
		code = http.StatusInternalServerError
	}
	writeBody(w, log, code, b)
}

// writeJSON writes a plain Go value (a discovery document) as JSON.
func writeJSON(w http.ResponseWriter, log *zap.Logger, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Error("marshal document failed", zap.Error(err))
		writeStatus(w, log, failure(http.StatusInternalServerError, "InternalError", "failed to marshal document"))
		return
	}
	writeBody(w, log, code, b)
}

func writeBody(w http.ResponseWriter, log *zap.Logger, code int, b []byte) {
	h := w.Header()
	h.Del("Trailer")
	h.Del("Transfer-Encoding")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if _, err := w.Write(b); err != nil {
		log.Debug("write response failed", zap.Error(err))
	}
}
