package audit

import (
	"context"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"github.com/tugboat-sh/tugboat/services/apiserver/authz"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// mutating are the verbs audited.
var mutating = map[string]bool{"create": true, "update": true, "patch": true, "delete": true, "deletecollection": true}

// UnaryServerInterceptor audits mutating calls; it runs before
// authentication so refused credentials are logged too.
func (l *Logger) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		ctx, slot := authn.WithSlot(ctx)
		resp, err := handler(ctx, req)
		a, ok := authz.Describe(authn.WithUser(ctx, slot.User), info.FullMethod, req)
		if !ok || !mutating[a.Verb] {
			return resp, err
		}
		a.Verb = gatewayVerb(a.Verb, slot)
		if a.Name == "" {
			if m, ok := resp.(interface{ GetMetadata() *metav1.ObjectMeta }); ok {
				a.Name = m.GetMetadata().GetName()
			}
		}
		l.Log(event(info.FullMethod, a, slot, err, start))
		return resp, err
	}
}

// StreamServerInterceptor audits mutating streams (pods/exec) when they end.
func (l *Logger) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		ctx, slot := authn.WithSlot(ss.Context())
		rs := &recordingStream{ServerStream: ss, ctx: ctx, method: info.FullMethod}
		err := handler(srv, rs)
		a, ok := authz.Describe(authn.WithUser(ctx, slot.User), info.FullMethod, rs.first)
		if ok && mutating[a.Verb] {
			a.Verb = gatewayVerb(a.Verb, slot)
			l.Log(event(info.FullMethod, a, slot, err, start))
		}
		return err
	}
}

// gatewayVerb is the verb the client used: a REST PATCH is a read and an
// update underneath, and its update is logged as the patch it is (the
// read is not logged, being no change).
func gatewayVerb(verb string, slot *authn.Slot) string {
	if slot.Verb == "patch" && verb == "update" {
		return "patch"
	}
	return verb
}

// recordingStream keeps the stream's first request.
type recordingStream struct {
	grpc.ServerStream
	ctx    context.Context
	method string
	first  any
}

func (s *recordingStream) Context() context.Context { return s.ctx }

func (s *recordingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil && s.first == nil {
		s.first = authz.DecodeFirst(s.method, m)
	}
	return err
}

func event(method string, a authz.Attributes, slot *authn.Slot, err error, start time.Time) *Event {
	u := slot.User
	now := time.Now()
	e := &Event{
		RequestURI: method, Verb: a.Verb,
		ObjectRef:                &ObjectRef{Resource: a.Resource, Subresource: a.Subresource, Namespace: a.Namespace, Name: a.Name, APIGroup: a.APIGroup, APIVersion: "v1"},
		RequestReceivedTimestamp: start.UTC(), StageTimestamp: now.UTC(), LatencySeconds: now.Sub(start).Seconds(),
	}
	if u != nil {
		e.User = UserInfo{Username: u.Name, Groups: u.Groups}
	} else {
		e.User = UserInfo{Username: "system:anonymous", Groups: []string{authn.GroupUnauthenticated}}
	}
	code, _ := apierr.HTTPFromCode(status.Code(err))
	if err == nil && a.Verb == "create" {
		code = 201
	}
	e.ResponseStatus.Code = code
	if err != nil {
		e.ResponseStatus.Message = status.Convert(err).Message()
	}
	if slot.Refused != nil {
		// The client may see a bare "Unauthorized"; the log says why.
		e.ResponseStatus.Message = "Unauthorized: " + slot.Refused.Error()
	}
	return e
}
