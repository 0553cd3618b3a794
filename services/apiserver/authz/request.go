package authz

import (
	"context"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/protobuf/proto"
)

// methodInfo is what a gRPC method means to the authoriser.
type methodInfo struct {
	kind        scheme.Kind
	verb        string
	subresource string
}

// verbs maps a method of the kinds' services to its verb and subresource.
var verbs = map[string][2]string{
	"Create": {"create", ""}, "Get": {"get", ""}, "List": {"list", ""}, "Watch": {"watch", ""},
	"Update": {"update", ""}, "UpdateStatus": {"update", "status"}, "UpdateApproval": {"update", "approval"}, "Delete": {"delete", ""},
	"Bind": {"create", "binding"}, "Log": {"get", "log"}, "Exec": {"create", "exec"},
	"GetScale": {"get", "scale"}, "UpdateScale": {"update", "scale"}, "CreateToken": {"create", "token"},
}

// methods maps "/tugboat.core.v1.PodService/Create" to its methodInfo, for every kind of the scheme.
var methods = func() map[string]methodInfo {
	out := map[string]methodInfo{}
	for _, k := range scheme.All() {
		svc := string(k.MessageName().Parent()) + "." + k.Kind + "Service"
		for m, v := range verbs {
			out["/"+svc+"/"+m] = methodInfo{kind: k, verb: v[0], subresource: v[1]}
		}
	}
	return out
}()

// streamRequests are the first messages of the streaming methods, for
// decoding them when the server hands the interceptor raw bytes.
var streamRequests = map[string]func() proto.Message{
	"Watch": func() proto.Message { return &metav1.ListOptions{} },
	"Log":   func() proto.Message { return &corev1.PodLogOptions{} },
	"Exec":  func() proto.Message { return &corev1.PodExecRequest{} },
}

// lookupMethod finds a method; ok is false for methods of no kind.
func lookupMethod(fullMethod string) (methodInfo, bool) {
	m, ok := methods[fullMethod]
	return m, ok
}

// newStreamRequest makes the first message of a streaming method.
func newStreamRequest(fullMethod string) proto.Message {
	i := strings.LastIndexByte(fullMethod, '/')
	if f, ok := streamRequests[fullMethod[i+1:]]; ok {
		return f()
	}
	return nil
}

// attributesOf builds a call's attributes from its method and request.
func attributesOf(ctx context.Context, m methodInfo, req any) Attributes {
	u, _ := authn.FromContext(ctx)
	a := Attributes{User: u, Verb: m.verb, ResourceRequest: true, APIGroup: m.kind.Group, Resource: m.kind.Resource, Subresource: m.subresource}
	if v, ok := authn.VerbFromContext(ctx); ok && (a.Verb == "get" || a.Verb == "update") {
		a.Verb = v
	}
	switch r := req.(type) {
	case *metav1.ListOptions:
		a.Namespace, a.FieldSelector = r.GetNamespace(), r.GetFieldSelector()
	case *metav1.GetOptions:
		a.Namespace, a.Name = r.GetNamespace(), r.GetName()
	case *metav1.DeleteOptions:
		a.Namespace, a.Name = r.GetNamespace(), r.GetName()
	case *corev1.PodLogOptions:
		a.Namespace, a.Name = r.GetNamespace(), r.GetName()
	case *corev1.PodExecRequest:
		a.Namespace, a.Name = r.GetStart().GetNamespace(), r.GetStart().GetName()
	case interface{ GetMetadata() *metav1.ObjectMeta }:
		md := r.GetMetadata()
		a.Namespace, a.Name = md.GetNamespace(), md.GetName()
	}
	if !m.kind.Namespaced {
		a.Namespace = ""
	} else if a.Namespace == "" && a.Verb != "list" && a.Verb != "watch" {
		// The registry puts a namespaced object without one in "default".
		a.Namespace = "default"
	}
	return a
}
