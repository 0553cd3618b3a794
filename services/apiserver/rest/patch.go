package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"go.uber.org/zap"
)

const (
	// maxPatchBytes bounds a PATCH body, like Kubernetes' 3 MiB request limit.
	maxPatchBytes = 3 << 20
	// patchAttempts is how often a patch is re-applied after losing a race
	// with another writer, when the patch does not pin a resourceVersion.
	patchAttempts = 5
)

// patchFunc applies a patch document to an object's JSON.
type patchFunc func(obj, patch []byte) ([]byte, error)

// patchFuncs are the supported patch content types. A strategic merge patch
// is applied as a JSON merge patch (RFC 7386) with its $-directives dropped:
// lists are replaced, not merged by key.
var patchFuncs = map[string]patchFunc{
	"application/merge-patch+json":           jsonpatch.MergePatch,
	"application/strategic-merge-patch+json": strategicAsMergePatch,
	"application/json-patch+json":            applyJSONPatch,
}

// patchMiddleware serves PATCH as a read, a patch and a compare-and-swap
// update through the gateway: GET the object, apply the patch, PUT the
// result carrying the resourceVersion that was read (409 if it changed).
func patchMiddleware(next http.Handler, log *zap.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch {
			next.ServeHTTP(w, r)
			return
		}
		servePatch(next, log, w, r)
	})
}

func servePatch(api http.Handler, log *zap.Logger, w http.ResponseWriter, r *http.Request) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	apply, ok := patchFuncs[mediaType]
	if !ok {
		writeStatus(w, log, failure(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s",
				"application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json")))
		return
	}
	patch, err := io.ReadAll(io.LimitReader(r.Body, maxPatchBytes+1))
	if err != nil {
		writeStatus(w, log, failure(http.StatusBadRequest, "BadRequest", fmt.Sprintf("read patch: %v", err)))
		return
	}
	if len(patch) > maxPatchBytes {
		writeStatus(w, log, failure(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the patch is too large"))
		return
	}
	objPath := strings.TrimSuffix(r.URL.Path, "/status")
	pinned := bytes.Contains(patch, []byte(`"resourceVersion"`))
	for attempt := 1; ; attempt++ {
		cur := call(api, r, http.MethodGet, objPath, nil)
		if cur.code != http.StatusOK {
			cur.copyTo(w)
			return
		}
		patched, err := apply(cur.body.Bytes(), patch)
		if err != nil {
			writeStatus(w, log, failure(http.StatusUnprocessableEntity, "Invalid", fmt.Sprintf("the patch could not be applied: %v", err)))
			return
		}
		res := call(api, r, http.MethodPut, r.URL.Path, patched)
		if res.code == http.StatusConflict && !pinned && attempt < patchAttempts && isConflict(res.body.Bytes()) {
			continue
		}
		res.copyTo(w)
		return
	}
}

// isConflict tells a lost race (reason Conflict) from other 409s.
func isConflict(body []byte) bool {
	var st struct{ Reason string }
	return json.Unmarshal(body, &st) == nil && st.Reason == "Conflict"
}

func applyJSONPatch(obj, patch []byte) ([]byte, error) {
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return nil, fmt.Errorf("decode JSON patch: %w", err)
	}
	return p.Apply(obj)
}

func strategicAsMergePatch(obj, patch []byte) ([]byte, error) {
	var doc any
	if err := json.Unmarshal(patch, &doc); err != nil {
		return nil, fmt.Errorf("decode strategic merge patch: %w", err)
	}
	b, err := json.Marshal(dropDirectives(doc))
	if err != nil {
		return nil, fmt.Errorf("encode merge patch: %w", err)
	}
	return jsonpatch.MergePatch(obj, b)
}

// dropDirectives removes strategic-merge-patch directives ($patch,
// $setElementOrder/..., $retainKeys, $deleteFromPrimitiveList/...).
func dropDirectives(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasPrefix(k, "$") {
				delete(x, k)
				continue
			}
			x[k] = dropDirectives(e)
		}
	case []any:
		for i, e := range x {
			x[i] = dropDirectives(e)
		}
	}
	return v
}

// recorded is a buffered response of an internal request.
type recorded struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (rec *recorded) Header() http.Header         { return rec.header }
func (rec *recorded) Write(b []byte) (int, error) { return rec.body.Write(b) }
func (rec *recorded) WriteHeader(code int) {
	if rec.code == 0 {
		rec.code = code
	}
}

func (rec *recorded) copyTo(w http.ResponseWriter) {
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.code)
	_, _ = w.Write(rec.body.Bytes())
}

// call makes an internal request to the gateway on behalf of r.
func call(api http.Handler, r *http.Request, method, path string, body []byte) *recorded {
	req := r.Clone(r.Context())
	req.Method = method
	u := *r.URL
	u.Path, u.RawPath, u.RawQuery = path, "", ""
	req.URL = &u
	req.RequestURI = u.RequestURI()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	rec := &recorded{header: http.Header{}}
	api.ServeHTTP(rec, req)
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	return rec
}
