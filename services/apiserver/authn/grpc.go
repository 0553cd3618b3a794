package authn

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Metadata keys the gateway sets on the in-process connection. A client's
// own x-tugboat-* metadata is never read from any other connection, and
// the REST gateway drops such headers before forwarding.
const (
	mdUser   = "x-tugboat-user"
	mdUID    = "x-tugboat-uid"
	mdGroups = "x-tugboat-group"
	mdVerb   = "x-tugboat-verb"
	// MetadataPrefix is what every such key starts with.
	MetadataPrefix = "x-tugboat-"
)

// UnaryServerInterceptor authenticates every call and puts the User in
// its context; a call without valid credentials is Unauthenticated.
func (a *Authenticator) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := a.grpcContext(ctx, info.FullMethod, PublicGRPC(info.FullMethod, req))
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streams.
func (a *Authenticator) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := a.grpcContext(ss.Context(), info.FullMethod, false)
		if err != nil {
			return err
		}
		return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	}
}

// contextStream replaces a stream's context.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

func (a *Authenticator) grpcContext(ctx context.Context, method string, public bool) (context.Context, error) {
	p, _ := peer.FromContext(ctx)
	creds := Credentials{Public: public}
	if p != nil {
		switch ai := p.AuthInfo.(type) {
		case gatewayInfo:
			md, _ := metadata.FromIncomingContext(ctx)
			return gatewayUser(ctx, md)
		case credentials.TLSInfo:
			creds.PeerCertificates = ai.State.PeerCertificates
		}
	}
	// One key, without copying the call's whole metadata (a profile of
	// creates showed the copy).
	if v := metadata.ValueFromIncomingContext(ctx, "authorization"); len(v) == 1 {
		creds.Token = BearerToken(v[0])
	}
	u, err := a.Authenticate(ctx, creds)
	if err != nil {
		addr := ""
		if p != nil && p.Addr != nil {
			addr = p.Addr.String()
		}
		a.refused(err, method, addr)
		refuseSlot(ctx, err)
		return ctx, Unauthenticated(err)
	}
	fillSlot(ctx, u)
	return WithUser(ctx, u), nil
}

// gatewayUser reads the user the REST layer authenticated.
func gatewayUser(ctx context.Context, md metadata.MD) (context.Context, error) {
	names := md.Get(mdUser)
	if len(names) != 1 || names[0] == "" {
		return ctx, Unauthenticated(ErrNoCredentials)
	}
	u := &User{Name: names[0], Groups: md.Get(mdGroups)}
	if uid := md.Get(mdUID); len(uid) == 1 {
		u.UID = uid[0]
	}
	fillSlot(ctx, u)
	ctx = WithUser(ctx, u)
	if v := md.Get(mdVerb); len(v) == 1 {
		ctx = WithVerb(ctx, v[0])
		if s, ok := ctx.Value(slotKey{}).(*Slot); ok {
			s.Verb = v[0]
		}
	}
	return ctx, nil
}

// Unauthenticated is the 401 of a missing or refused credential.
func Unauthenticated(err error) error {
	return status.Error(codes.Unauthenticated, Message(err))
}

type verbKey struct{}

// WithVerb records a verb the REST layer knows better than the gRPC method
// (a PATCH is a read and an update underneath).
func WithVerb(ctx context.Context, verb string) context.Context {
	return context.WithValue(ctx, verbKey{}, verb)
}

// VerbFromContext returns the verb WithVerb recorded.
func VerbFromContext(ctx context.Context) (string, bool) {
	v, ok := ctx.Value(verbKey{}).(string)
	return v, ok
}
