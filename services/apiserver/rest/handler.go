// Package rest is the apiserver's REST face: Kubernetes' own paths and JSON
// shapes served through grpc-gateway over a client connection to the
// apiserver's gRPC server, plus the discovery documents, /version and the
// watch and patch conventions that kubectl and client-go rely on.
package rest

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// Options configures the REST handler.
type Options struct {
	// ServerAddress is advertised in /api's serverAddressByClientCIDRs (host:port).
	ServerAddress string
	// Logger receives internal errors; nil means no logging.
	Logger *zap.Logger
	// Metadata, when set, adds gRPC metadata to every call from the request
	// (the authenticated user, for the in-process connection).
	Metadata func(context.Context, *http.Request) metadata.MD
}

// NewHandler returns the REST handler: discovery documents and /version
// answered locally, everything else translated by grpc-gateway into calls on
// conn, with ?watch=true requests routed to the Watch streams, PATCH
// turned into a read, a patch and an update, and pods/log streamed as plain
// text (podlog.go).
func NewHandler(ctx context.Context, conn *grpc.ClientConn, opts Options) (http.Handler, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	log := opts.Logger
	m := newMarshaler()
	muxOpts := []runtime.ServeMuxOption{
		runtime.WithMarshalerOption(runtime.MIMEWildcard, m),
		runtime.WithErrorHandler(errorHandler(log)),
		runtime.WithRoutingErrorHandler(routingErrorHandler(log)),
		runtime.WithForwardResponseOption(startStream),
		runtime.WithForwardResponseOption(created),
		runtime.WithDisableChunkedEncoding(),
	}
	if opts.Metadata != nil {
		muxOpts = append(muxOpts, runtime.WithMetadata(opts.Metadata))
	}
	mux := runtime.NewServeMux(muxOpts...)
	for _, g := range gateways {
		if err := g.register(ctx, mux, conn); err != nil {
			return nil, fmt.Errorf("register REST gateway for %s: %w", g.resource, err)
		}
	}
	if err := registerPodStreams(mux, conn, log); err != nil {
		return nil, err
	}
	disc := newDiscovery(opts.ServerAddress)
	var api http.Handler = mux
	api = patchMiddleware(api, log)
	api = watchMiddleware(api)
	api = tableMiddleware(api, log)
	return &handler{disc: disc, api: api, log: log}, nil
}

// handler dispatches between the locally answered documents and the gateway.
type handler struct {
	disc *discovery
	api  http.Handler
	log  *zap.Logger
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if doc, ok := h.disc.lookup(r.URL.Path); ok {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeStatus(w, h.log, methodNotAllowed())
			return
		}
		writeJSON(w, h.log, http.StatusOK, doc)
		return
	}
	h.api.ServeHTTP(w, r)
}

// created answers a successful Create or Bind with 201 Created, as Kubernetes does.
func created(ctx context.Context, w http.ResponseWriter, m proto.Message) error {
	if m == nil {
		return nil
	}
	method, ok := runtime.RPCMethod(ctx)
	if ok && (strings.HasSuffix(method, "/Create") || strings.HasSuffix(method, "/Bind")) {
		w.WriteHeader(http.StatusCreated)
	}
	return nil
}
