package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func readEvents(t *testing.T, path string) []Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

func TestUnaryInterceptor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := New(Options{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("alice-token,alice,1,dev\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tf, err := authn.LoadTokenFile(tokens)
	if err != nil {
		t.Fatal(err)
	}
	an := (&authn.Authenticator{Tokens: []authn.TokenAuthenticator{tf}}).UnaryServerInterceptor()
	audited := l.UnaryServerInterceptor()
	// call runs audit, then authentication, then the handler answering resp, err.
	call := func(token, method string, req, resp any, herr error) {
		ctx := context.Background()
		if token != "" {
			ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+token))
		}
		info := &grpc.UnaryServerInfo{FullMethod: method}
		_, _ = audited(ctx, req, info, func(ctx context.Context, req any) (any, error) {
			return an(ctx, req, info, func(context.Context, any) (any, error) { return resp, herr })
		})
	}
	call("alice-token", "/tugboat.core.v1.PodService/Create", &corev1.Pod{Metadata: &metav1.ObjectMeta{GenerateName: "web-", Namespace: "a"}},
		&corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "web-x1", Namespace: "a"}}, nil)
	call("alice-token", "/tugboat.core.v1.PodService/List", &metav1.ListOptions{Namespace: "a"}, &corev1.PodList{}, nil)
	call("alice-token", "/tugboat.core.v1.PodService/Delete", &metav1.DeleteOptions{Namespace: "a", Name: "web-x1"}, nil,
		status.Error(codes.PermissionDenied, "forbidden"))
	call("bad-token", "/tugboat.core.v1.NodeService/UpdateStatus", &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"}}, nil, nil)
	ev := readEvents(t, path)
	if len(ev) != 3 {
		t.Fatalf("%d events, want 3 (the list is not audited): %+v", len(ev), ev)
	}
	want := []struct {
		user, verb, name, sub string
		code                  int
	}{
		{"alice", "create", "web-x1", "", 201},
		{"alice", "delete", "web-x1", "", 403},
		{"system:anonymous", "update", "n1", "status", 401},
	}
	for i, w := range want {
		e := ev[i]
		if e.User.Username != w.user || e.Verb != w.verb || e.ObjectRef.Name != w.name || e.ObjectRef.Subresource != w.sub || e.ResponseStatus.Code != w.code {
			t.Errorf("event %d = %+v %+v, want %+v", i, e, e.ObjectRef, w)
		}
		if e.Kind != "Event" || e.APIVersion != "audit.k8s.io/v1" || e.LatencySeconds < 0 || e.StageTimestamp.Before(e.RequestReceivedTimestamp) {
			t.Errorf("event %d header %+v", i, e)
		}
	}
	if ev[0].ObjectRef.Namespace != "a" || ev[0].ObjectRef.Resource != "pods" || !strings.Contains(strings.Join(ev[0].User.Groups, ","), "dev") {
		t.Errorf("event 0 %+v", ev[0])
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := New(Options{Path: path, MaxSizeMB: 1, MaxBackups: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e := &Event{Verb: "create", ObjectRef: &ObjectRef{Resource: "pods", Name: strings.Repeat("x", 200)}}
	for range 3 * 1024 * 1024 / 250 {
		l.Log(e)
	}
	files, err := filepath.Glob(filepath.Join(dir, "audit-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || len(files) > 2 {
		t.Fatalf("%d rotated files, want 1 or 2: %v", len(files), files)
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() > 1<<20 {
		t.Fatalf("current file %v, %v: over 1 MiB", st.Size(), err)
	}
}

func TestNewRefusesEmptyPath(t *testing.T) {
	if _, err := New(Options{}, nil); err == nil {
		t.Fatal("an empty path was accepted")
	}
	if _, err := New(Options{Path: filepath.Join(t.TempDir(), "missing", "a.log")}, nil); err == nil || !strings.Contains(err.Error(), "--audit-log-path") {
		t.Fatalf("a path in a missing directory: %v", err)
	}
}
