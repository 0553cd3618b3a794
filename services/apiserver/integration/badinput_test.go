package integration

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestBadInput sends malformed and invalid requests: each gets its
// Kubernetes code and a Status saying why, and etcd's key count and
// revision prove that nothing was written.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	const pods = "/api/v1/namespaces/default/pods"
	existing := s.must(t, http.StatusCreated, "POST", pods, podJSON("existing", nil))
	stale := s.must(t, http.StatusOK, "GET", pods+"/existing", nil)
	existing["metadata"].(obj)["labels"] = map[string]any{"v": "2"}
	s.must(t, http.StatusOK, "PUT", pods+"/existing", existing)
	stale["metadata"].(obj)["labels"] = map[string]any{"v": "stale"}

	withMeta := func(meta obj) obj {
		p := podJSON("", nil)
		p["metadata"] = meta
		return p
	}
	withField := func(k string, v any) obj {
		p := podJSON("unknown-field", nil)
		p[k] = v
		return p
	}
	bigEnv := podJSON("too-big", nil)
	bigEnv["spec"].(obj)["containers"].([]any)[0].(obj)["env"] = []any{obj{"name": "BLOB", "value": strings.Repeat("x", 1600<<10)}}

	// Seed 004's pod features, wrongly.
	podWith := func(name string, edit func(spec, c obj)) obj {
		p := podJSON(name, nil)
		spec := p["spec"].(obj)
		edit(spec, spec["containers"].([]any)[0].(obj))
		return p
	}
	probeOnMissingPort := podWith("probe-port", func(_, c obj) {
		c["livenessProbe"] = obj{"httpGet": obj{"path": "/health", "port": "web"}}
	})
	mountOfNoVolume := podWith("no-volume", func(_, c obj) {
		c["volumeMounts"] = []any{obj{"name": "xchange", "mountPath": "/tmp/xchange"}}
	})
	twoVolumes := podWith("two-volumes", func(spec, _ obj) {
		spec["volumes"] = []any{obj{"name": "xchange", "emptyDir": obj{}}, obj{"name": "xchange", "emptyDir": obj{}}}
	})
	bigSecret := obj{"apiVersion": "v1", "kind": "Secret", "metadata": obj{"name": "big"}, "stringData": obj{"blob": strings.Repeat("x", 1<<20+1)}}

	tests := []struct {
		name, method, path string
		body               any
		code               int
		reason             string
		mention            string // the message names it
		field              string // a cause names this field
	}{
		{"malformed JSON", "POST", pods, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":`, 400, "BadRequest", "", ""},
		{"JSON of the wrong shape", "POST", pods, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":["x"]}}`, 400, "BadRequest", "", ""},
		{"unknown field", "POST", pods, withField("bogusField", 1), 400, "BadRequest", "bogusField", ""},
		{"invalid name", "POST", pods, withMeta(obj{"name": "Bad_Name"}), 422, "Invalid", "metadata.name", "metadata.name"},
		{"label value too long", "POST", pods, withMeta(obj{"name": "long-label", "labels": obj{"app": strings.Repeat("v", 64)}}), 422, "Invalid", "metadata.labels", "metadata.labels"},
		{"object over 1.5 MiB", "POST", pods, bigEnv, 413, "RequestEntityTooLarge", "too-big", ""},
		{"kind does not match the path", "POST", pods, func() obj { p := podJSON("wrong-kind", nil); p["kind"] = "Deployment"; return p }(), 400, "BadRequest", `"Deployment"`, ""},
		{"another kind's body", "POST", pods, deploymentJSON("wrong-body", 1), 400, "BadRequest", "", ""},
		{"apiVersion does not match the path", "POST", pods, func() obj { p := podJSON("wrong-group", nil); p["apiVersion"] = "apps/v1"; return p }(), 400, "BadRequest", `"apps/v1"`, ""},
		{"stale resourceVersion", "PUT", pods + "/existing", stale, 409, "Conflict", "existing", ""},
		{"probe on a port name the container lacks", "POST", pods, probeOnMissingPort, 422, "Invalid", "livenessProbe.httpGet.port", "spec.containers[0].livenessProbe.httpGet.port"},
		{"volumeMount naming no volume", "POST", pods, mountOfNoVolume, 422, "Invalid", "volumeMounts[0].name", "spec.containers[0].volumeMounts[0].name"},
		{"two volumes with one name", "POST", pods, twoVolumes, 422, "Invalid", "spec.volumes[1].name", "spec.volumes[1].name"},
		{"secret over 1 MiB", "POST", "/api/v1/namespaces/default/secrets", bigSecret, 422, "Invalid", "data", "data"},
		{"missing namespace", "POST", "/api/v1/namespaces/absent/pods", podJSON("orphan", nil), 404, "NotFound", "absent", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.etcdState(t)
			r := s.do(t, tt.method, tt.path, tt.body)
			st := r.status(t)
			if r.code != tt.code || st.Reason != tt.reason || st.Status != "Failure" {
				t.Fatalf("%s %s = HTTP %d reason %q, want %d %q: %s", tt.method, tt.path, r.code, st.Reason, tt.code, tt.reason, r.body)
			}
			if !strings.Contains(st.Message, tt.mention) {
				t.Fatalf("message %q does not name %q", st.Message, tt.mention)
			}
			if tt.field != "" && !slices.ContainsFunc(st.fields(), func(f string) bool { return strings.HasPrefix(f, tt.field) }) {
				t.Fatalf("causes name fields %v, want %s", st.fields(), tt.field)
			}
			if after := s.etcdState(t); after != before {
				t.Fatalf("etcd changed from %+v to %+v: the refused request wrote something", before, after)
			}
		})
	}
	t.Run("nothing but the valid pod is listed", func(t *testing.T) {
		if got := names(s.must(t, http.StatusOK, "GET", pods, nil)); !slices.Equal(got, []string{"existing"}) {
			t.Fatalf("pods = %v, want only existing", got)
		}
		got := s.must(t, http.StatusOK, "GET", pods+"/existing", nil)
		if str(got, "metadata", "labels", "v") != "2" {
			t.Fatalf("the stale update changed the pod: labels %v", get(got, "metadata", "labels"))
		}
	})
}

// rawCodec sends and receives bytes as they are, whatever they encode.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: %T is not []byte", v)
	}
	return b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: %T is not *[]byte", v)
	}
	*p = append([]byte(nil), data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// TestMalformedProtobuf sends bytes that are not a protobuf message to
// unary and streaming methods: the answer is InvalidArgument, never
// Internal or Unknown, and nothing is written.
func TestMalformedProtobuf(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	garbage := []struct {
		name string
		data []byte
	}{
		{"truncated varint", []byte{0x08, 0xff, 0xff, 0xff}},
		{"length beyond the message", []byte{0x1a, 0x7f, 0x01}},
		{"invalid wire type", []byte{0x0f, 0x01}},
		{"invalid UTF-8 in a string", []byte{0x12, 0x02, 0xc3, 0x28}},
	}
	for _, g := range garbage {
		t.Run(g.name, func(t *testing.T) {
			before := s.etcdState(t)
			var out []byte
			err := s.conn.Invoke(ctx(t), "/tugboat.core.v1.PodService/Create", g.data, &out, grpc.ForceCodec(rawCodec{}))
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "malformed") {
				t.Fatalf("Create with garbage: %v, want InvalidArgument saying the message is malformed", err)
			}
			stream, err := s.conn.NewStream(ctx(t), &grpc.StreamDesc{ServerStreams: true}, "/tugboat.core.v1.PodService/Watch", grpc.ForceCodec(rawCodec{}))
			if err != nil {
				t.Fatalf("open Watch stream: %v", err)
			}
			if err := stream.SendMsg(g.data); err != nil && err != io.EOF {
				t.Fatalf("send garbage on Watch: %v", err)
			}
			_ = stream.CloseSend()
			err = stream.RecvMsg(&out)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("Watch with garbage: %v, want InvalidArgument", err)
			}
			if after := s.etcdState(t); after != before {
				t.Fatalf("etcd changed from %+v to %+v", before, after)
			}
		})
	}
	// The connection still serves well-formed requests.
	if _, err := s.cs.Pods().List(ctx(t), &metav1.ListOptions{Namespace: "default"}); err != nil {
		t.Fatalf("list after malformed requests: %v", err)
	}
}
