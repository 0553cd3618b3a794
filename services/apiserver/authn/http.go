package authn

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"strings"

	"google.golang.org/grpc/metadata"
)

// publicPaths answer without credentials: health checks.
var publicPaths = []string{"/healthz", "/readyz", "/livez"}

type connKey struct{}

// ConnContext is the http.Server's ConnContext: it keeps the connection so
// the middleware finds its TLS state under cmux's wrapper.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc := TLSConn(c); tc != nil {
		return context.WithValue(ctx, connKey{}, tc)
	}
	return ctx
}

// Middleware authenticates every HTTP request but the health checks: 401
// with a Kubernetes Status when the credentials are missing or refused,
// otherwise the User in the request's context. It drops any x-tugboat-*
// header (as Grpc-Metadata-X-Tugboat-* too), which the gateway would
// otherwise forward.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stripMetadataHeaders(r.Header)
		if isPublic(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		var creds Credentials
		if tc, ok := r.Context().Value(connKey{}).(*tls.Conn); ok {
			creds.PeerCertificates = tc.ConnectionState().PeerCertificates
		} else if r.TLS != nil {
			creds.PeerCertificates = r.TLS.PeerCertificates
		}
		creds.Token = BearerToken(r.Header.Get("Authorization"))
		u, err := a.Authenticate(r.Context(), creds)
		if err != nil {
			a.refused(err, r.Method+" "+r.URL.Path, r.RemoteAddr)
			WriteStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized: "+err.Error())
			return
		}
		ctx := WithUser(r.Context(), u)
		if r.Method == http.MethodPatch {
			ctx = WithVerb(ctx, "patch")
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func isPublic(path string) bool {
	for _, p := range publicPaths {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func stripMetadataHeaders(h http.Header) {
	for k := range h {
		l := strings.ToLower(k)
		if strings.HasPrefix(l, MetadataPrefix) || strings.HasPrefix(l, "grpc-metadata-"+MetadataPrefix) {
			delete(h, k)
		}
	}
}

// GatewayMetadata is the REST gateway's metadata annotator: the user the
// middleware authenticated, for the in-process connection.
func GatewayMetadata(ctx context.Context, _ *http.Request) metadata.MD {
	u, ok := FromContext(ctx)
	if !ok {
		return nil
	}
	md := metadata.MD{mdUser: []string{u.Name}, mdGroups: u.Groups}
	if u.UID != "" {
		md[mdUID] = []string{u.UID}
	}
	if v, ok := VerbFromContext(ctx); ok {
		md[mdVerb] = []string{v}
	}
	return md
}

// WriteStatus writes a Kubernetes Status failure.
func WriteStatus(w http.ResponseWriter, code int, reason, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code,
	})
}
