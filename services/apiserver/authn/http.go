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

type connKey struct{}

// ConnContext is the http.Server's ConnContext: it keeps the connection so
// the middleware finds its TLS state under cmux's wrapper.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc := TLSConn(c); tc != nil {
		return context.WithValue(ctx, connKey{}, tc)
	}
	return ctx
}

// Middleware authenticates every HTTP request: 401 with a Kubernetes
// Status when the credentials are missing (but for the public requests
// anonymous may make, PublicHTTP) or refused, otherwise the User in the
// request's context. It drops any x-tugboat-*
// header (as Grpc-Metadata-X-Tugboat-* too), which the gateway would
// otherwise forward.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stripMetadataHeaders(r.Header)
		creds := Credentials{Public: PublicHTTP(r)}
		if tc, ok := r.Context().Value(connKey{}).(*tls.Conn); ok {
			creds.PeerCertificates = tc.ConnectionState().PeerCertificates
		} else if r.TLS != nil {
			creds.PeerCertificates = r.TLS.PeerCertificates
		}
		creds.Token = BearerToken(r.Header.Get("Authorization"))
		u, err := a.Authenticate(r.Context(), creds)
		if err != nil {
			a.refused(err, r.Method+" "+r.URL.Path, r.RemoteAddr)
			if a.OnHTTPRefused != nil {
				a.OnHTTPRefused(r, err)
			}
			WriteStatus(w, http.StatusUnauthorized, "Unauthorized", Message(err))
			return
		}
		ctx := WithUser(r.Context(), u)
		if r.Method == http.MethodPatch {
			ctx = WithVerb(ctx, "patch")
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
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

// statusBody is Kubernetes' Status of a failure, its fields in
// Kubernetes' order.
type statusBody struct {
	Kind       string   `json:"kind"`
	APIVersion string   `json:"apiVersion"`
	Metadata   struct{} `json:"metadata"`
	Status     string   `json:"status"`
	Message    string   `json:"message"`
	Reason     string   `json:"reason"`
	Code       int      `json:"code"`
}

// WriteStatus writes a Kubernetes Status failure.
func WriteStatus(w http.ResponseWriter, code int, reason, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(statusBody{Kind: "Status", APIVersion: "v1", Status: "Failure", Message: message, Reason: reason, Code: code})
}
