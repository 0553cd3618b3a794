// Package authz authorises the apiserver's requests: RBAC (Roles,
// ClusterRoles and their bindings, evaluated from in-memory caches), the
// node authoriser (a kubelet reads what its pods need and writes only its
// own Node, Lease and pods' status), system:masters always, and the default
// roles and bindings created at start. The gRPC interceptors authorise every
// call; the HTTP middleware authorises non-resource paths (discovery,
// /version, /metrics).
package authz

import (
	"context"
	"fmt"

	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
)

// Attributes are what a request asks to do.
type Attributes struct {
	User *authn.User
	// Verb: get list watch create update patch delete deletecollection.
	Verb string
	// ResourceRequest is false for a non-resource path (Path set).
	ResourceRequest bool
	APIGroup        string
	Resource        string
	Subresource     string
	Namespace       string
	Name            string
	// FieldSelector of a list or watch (the node authoriser reads metadata.name).
	FieldSelector string
	Path          string
}

// resourceString is "pods" or "pods/log".
func (a Attributes) resourceString() string {
	if a.Subresource != "" {
		return a.Resource + "/" + a.Subresource
	}
	return a.Resource
}

// urlName is the name as Kubernetes' authorisers see it: from the URL, so
// none for a create of a resource (its name is in the body).
func (a Attributes) urlName() string {
	if a.Verb == "create" && a.Subresource == "" {
		return ""
	}
	return a.Name
}

// Decision is an authoriser's answer.
type Decision int

// An authoriser allows, denies, or has no opinion (the next one decides).
const (
	NoOpinion Decision = iota
	Allow
	Deny
)

// Authorizer decides a request; reason explains a denial.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (d Decision, reason string)
}

// Chain asks each authoriser in turn until one allows or denies.
type Chain []Authorizer

// Authorize returns the first decision that is not NoOpinion; reasons of
// the authorisers that had no opinion are kept for the denial.
func (c Chain) Authorize(ctx context.Context, a Attributes) (Decision, string) {
	var reason string
	for _, z := range c {
		d, r := z.Authorize(ctx, a)
		if d != NoOpinion {
			return d, r
		}
		if r != "" {
			reason = r
		}
	}
	return NoOpinion, reason
}

// AlwaysAllow allows everything (--authorization-mode=AlwaysAllow).
type AlwaysAllow struct{}

// Authorize allows.
func (AlwaysAllow) Authorize(context.Context, Attributes) (Decision, string) { return Allow, "" }

// Masters allows system:masters everything, as Kubernetes does before any other authoriser.
type Masters struct{}

// Authorize allows members of system:masters.
func (Masters) Authorize(_ context.Context, a Attributes) (Decision, string) {
	if a.User.InGroup(authn.GroupMasters) {
		return Allow, ""
	}
	return NoOpinion, ""
}

// ForbiddenMessage words a denial as Kubernetes does:
// pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "kube-system"
func ForbiddenMessage(a Attributes, reason string) string {
	user := ""
	if a.User != nil {
		user = a.User.Name
	}
	var msg string
	if !a.ResourceRequest {
		msg = fmt.Sprintf("forbidden: User %q cannot %s path %q", user, a.Verb, a.Path)
	} else {
		subject := a.resourceString()
		if name := a.urlName(); name != "" {
			subject = fmt.Sprintf("%s %q", subject, name)
		}
		scope := "at the cluster scope"
		if a.Namespace != "" {
			scope = fmt.Sprintf("in the namespace %q", a.Namespace)
		}
		msg = fmt.Sprintf("%s is forbidden: User %q cannot %s resource %q in API group %q %s",
			subject, user, a.Verb, a.resourceString(), a.APIGroup, scope)
	}
	if reason != "" {
		msg += ": " + reason
	}
	return msg
}
