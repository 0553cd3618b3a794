package audit

import (
	"net/http"
	"strings"
	"time"

	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
)

// httpVerbs are the mutating HTTP methods and their verbs.
var httpVerbs = map[string]string{http.MethodPost: "create", http.MethodPut: "update", http.MethodPatch: "patch", http.MethodDelete: "delete"}

// HTTPRefused logs a mutating REST request that authentication refused
// (authn.Authenticator.OnHTTPRefused): it never reaches the gRPC server,
// whose interceptor logs the others. The object is read from the path.
func (l *Logger) HTTPRefused(r *http.Request, err error) {
	verb, ok := httpVerbs[r.Method]
	if !ok {
		return
	}
	ref := objectRef(r.URL.Path)
	if verb == "delete" && ref != nil && ref.Name == "" {
		verb = "deletecollection"
	}
	now := time.Now().UTC()
	l.Log(&Event{
		RequestURI: r.URL.RequestURI(), Verb: verb,
		User:                     UserInfo{Username: authn.AnonymousUser, Groups: []string{authn.GroupUnauthenticated}},
		ObjectRef:                ref,
		ResponseStatus:           ResponseStatus{Code: http.StatusUnauthorized, Message: "Unauthorized: " + err.Error()},
		RequestReceivedTimestamp: now, StageTimestamp: now,
	})
}

// objectRef reads a Kubernetes REST path: /api/v1[/namespaces/<ns>]/<resource>[/<name>[/<sub>]]
// or /apis/<group>/<version>/...; nil for other paths.
func objectRef(path string) *ObjectRef {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	ref := &ObjectRef{}
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		ref.APIVersion, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		ref.APIGroup, ref.APIVersion, parts = parts[1], parts[2], parts[3:]
	default:
		return nil
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		ref.Namespace, parts = parts[1], parts[2:]
	}
	if len(parts) > 0 {
		ref.Resource = parts[0]
	}
	if len(parts) > 1 {
		ref.Name = parts[1]
	}
	if len(parts) > 2 {
		ref.Subresource = parts[2]
	}
	return ref
}
