package authz

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Guard applies an authoriser to gRPC calls and to HTTP non-resource paths.
type Guard struct {
	authz              Authorizer
	allowed, forbidden prometheus.Counter
	log                *zap.Logger
	// escalation, when set, refuses writes of roles and bindings that
	// grant more than their writer holds.
	escalation *RBAC
}

// PreventEscalation checks writes of roles and bindings against r's policy.
func (g *Guard) PreventEscalation(r *RBAC) { g.escalation = r }

// NewGuard authorises with z, counting decisions on reg (may be nil) and
// logging denials to log (may be nil).
func NewGuard(z Authorizer, reg prometheus.Registerer, log *zap.Logger) *Guard {
	if log == nil {
		log = zap.NewNop()
	}
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tugboat_apiserver_authorization_decisions_total",
		Help: "Authorisation decisions by result (allowed, forbidden).",
	}, []string{"decision"})
	if reg != nil {
		reg.MustRegister(decisions)
	}
	return &Guard{authz: z, allowed: decisions.WithLabelValues("allowed"), forbidden: decisions.WithLabelValues("forbidden"), log: log}
}

// Describe returns the attributes of a call of fullMethod with its request
// (the user from ctx); ok is false for a method of no API kind.
func Describe(ctx context.Context, fullMethod string, req any) (Attributes, bool) {
	m, ok := lookupMethod(fullMethod)
	if !ok {
		return Attributes{}, false
	}
	return attributesOf(ctx, m, req), true
}

// DecodeFirst decodes the first message of a stream when the server handed
// it over undecoded (raw bytes); otherwise it returns m.
func DecodeFirst(fullMethod string, m any) any {
	raw, ok := m.(interface{ Bytes() []byte })
	if !ok {
		return m
	}
	msg := newStreamRequest(fullMethod)
	if msg == nil || proto.Unmarshal(raw.Bytes(), msg) != nil {
		return m
	}
	return msg
}

// check authorises a; the error is PermissionDenied in Kubernetes' words.
func (g *Guard) check(ctx context.Context, a Attributes) error {
	d, reason := g.authz.Authorize(ctx, a)
	if d == Allow {
		g.allowed.Inc()
		return nil
	}
	g.forbidden.Inc()
	msg := ForbiddenMessage(a, reason)
	g.log.Info("request forbidden", zap.String("reason", msg))
	return status.Error(codes.PermissionDenied, msg)
}

// unknownMethod refuses a method the authoriser cannot describe: with a
// guard, nothing is served unless it was authorised.
func (g *Guard) unknownMethod(method string) error {
	g.forbidden.Inc()
	msg := fmt.Sprintf("method %s is forbidden: the authoriser does not know it", method)
	g.log.Info("request forbidden", zap.String("reason", msg))
	return status.Error(codes.PermissionDenied, msg)
}

// UnaryServerInterceptor authorises each call; it runs after
// authentication. A method of no API kind is refused.
func (g *Guard) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		a, ok := Describe(ctx, info.FullMethod, req)
		if !ok {
			return nil, g.unknownMethod(info.FullMethod)
		}
		if err := g.check(ctx, a); err != nil {
			return nil, err
		}
		if g.escalation != nil {
			if reason := g.escalation.CheckEscalation(ctx, g.authz, a, req); reason != "" {
				g.forbidden.Inc()
				msg := fmt.Sprintf("%s.%s %q is forbidden: %s", a.Resource, a.APIGroup, a.Name, reason)
				g.log.Info("request forbidden", zap.String("reason", msg))
				return nil, status.Error(codes.PermissionDenied, msg)
			}
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor authorises a stream on its first request. A
// method of no API kind is refused.
func (g *Guard) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		m, ok := lookupMethod(info.FullMethod)
		if !ok {
			return g.unknownMethod(info.FullMethod)
		}
		return handler(srv, &guardedStream{ServerStream: ss, g: g, m: m, method: info.FullMethod})
	}
}

// guardedStream authorises on the first RecvMsg, which carries the request.
type guardedStream struct {
	grpc.ServerStream
	g       *Guard
	m       methodInfo
	method  string
	checked bool
}

func (s *guardedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if s.checked {
		return nil
	}
	s.checked = true
	return s.g.check(s.Context(), attributesOf(s.Context(), s.m, DecodeFirst(s.method, m)))
}

// resourcePath matches the REST paths of resources (authorised by the
// gRPC server they reach); other paths are non-resource URLs.
var resourcePath = regexp.MustCompile(`^/api/v1/.+|^/apis/[^/]+/[^/]+/.+`)

// Middleware authorises non-resource HTTP paths (discovery, /version,
// /metrics, /openapi) with the verb of the method; it runs after
// authentication. Health checks are public.
func (g *Guard) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if resourcePath.MatchString(r.URL.Path) || isHealth(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		u, _ := authn.FromContext(r.Context())
		a := Attributes{User: u, Verb: strings.ToLower(r.Method), Path: r.URL.Path}
		if r.Method == http.MethodHead {
			a.Verb = "get"
		}
		if err := g.check(r.Context(), a); err != nil {
			authn.WriteStatus(w, http.StatusForbidden, "Forbidden", status.Convert(err).Message())
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isHealth(p string) bool {
	for _, h := range []string{"/healthz", "/readyz", "/livez"} {
		if p == h || strings.HasPrefix(p, h+"/") {
			return true
		}
	}
	return false
}
