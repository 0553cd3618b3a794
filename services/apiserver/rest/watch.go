package rest

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
)

// watchMiddleware serves Kubernetes' watch convention. Clients ask for a
// watch as a list or get with ?watch=true (or 1); the gateway knows watches
// at the legacy /watch/ paths, so the request is rewritten there. A watch
// of one object (.../pods/x?watch=true) becomes a watch of the collection
// with fieldSelector metadata.name=x, as in Kubernetes.
func watchMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if rewritten, ok := watchRequest(r); ok {
				r = rewritten
			}
			if isWatchPath(r.URL.Path) {
				w = &watchWriter{ResponseWriter: w}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// watchRequest returns r rewritten to its /watch/ path when it asks for a watch.
func watchRequest(r *http.Request) (*http.Request, bool) {
	q := r.URL.Query()
	if watch, err := strconv.ParseBool(q.Get("watch")); err != nil || !watch {
		return nil, false
	}
	prefix, rest, ok := splitAPIPath(r.URL.Path)
	if !ok || strings.HasPrefix(rest, "watch/") {
		return nil, false
	}
	segs := strings.Split(rest, "/")
	var collection []string
	name := ""
	switch {
	case len(segs) == 1: // pods, namespaces
		collection = segs
	case len(segs) == 2 && segs[0] == "namespaces": // namespaces/x
		collection, name = segs[:1], segs[1]
	case len(segs) == 2: // nodes/x
		collection, name = segs[:1], segs[1]
	case len(segs) == 3 && segs[0] == "namespaces": // namespaces/ns/pods
		collection = segs
	case len(segs) == 4 && segs[0] == "namespaces": // namespaces/ns/pods/x
		collection, name = segs[:3], segs[3]
	default:
		return nil, false
	}
	if name != "" {
		sel := "metadata.name=" + name
		if old := q.Get("fieldSelector"); old != "" {
			sel = old + "," + sel
		}
		q.Set("fieldSelector", sel)
	}
	u := *r.URL
	u.Path = prefix + "/watch/" + strings.Join(collection, "/")
	u.RawPath = ""
	u.RawQuery = q.Encode()
	r2 := r.Clone(r.Context())
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	return r2, true
}

// splitAPIPath splits /api/v1/<rest> or /apis/<group>/<version>/<rest>.
func splitAPIPath(p string) (prefix, rest string, ok bool) {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	n := 0
	switch {
	case len(segs) >= 3 && segs[0] == "api":
		n = 2
	case len(segs) >= 4 && segs[0] == "apis":
		n = 3
	default:
		return "", "", false
	}
	rest = strings.Join(segs[n:], "/")
	if rest == "" {
		return "", "", false
	}
	return "/" + strings.Join(segs[:n], "/"), rest, true
}

func isWatchPath(p string) bool {
	_, rest, ok := splitAPIPath(p)
	return ok && strings.HasPrefix(rest, "watch/")
}

// startStream is a gateway forward-response option. grpc-gateway calls it
// with a nil message once when a server stream starts: the status line and
// headers are sent then, so a watcher learns that its watch is established
// before the first event, and later stream errors cannot change the status
// (they arrive as ERROR events, as in Kubernetes).
func startStream(_ context.Context, w http.ResponseWriter, m proto.Message) error {
	if m != nil {
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return http.NewResponseController(w).Flush()
}

// watchWriter keeps the first status of a watch response: the gateway tries
// to set another when a stream fails before its first message.
type watchWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *watchWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *watchWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection to flush.
func (w *watchWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
