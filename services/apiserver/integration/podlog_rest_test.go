package integration

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const podsPath = "/api/v1/namespaces/default/pods/"

// getLog sends GET pods/<pod>/log?<query> and reads the whole answer.
func (s *streamSetup) getLog(t *testing.T, pod, query string) (response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), "GET", s.base+podsPath+pod+"/log?"+query, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("GET %s log: %v", pod, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s log: %v", pod, err)
	}
	return response{code: resp.StatusCode, body: b}, resp.Header.Get("Content-Type")
}

// TestPodLogREST checks GET pods/log: raw text, the query parameters passed
// on, Kubernetes Status errors, and pods/exec answered 501.
func TestPodLogREST(t *testing.T) {
	t.Parallel()
	s := startStreams(t)
	r, ctype := s.getLog(t, "web", "")
	if r.code != http.StatusOK || ctype != "text/plain" || string(r.body) != "one\ntwo\n" {
		t.Fatalf("GET web/log = %d %q %q, want 200 text/plain with the raw chunks", r.code, ctype, r.body)
	}

	r, _ = s.getLog(t, "multi", "container=b&tailLines=5&sinceSeconds=60&timestamps=true&previous=1&limitBytes=100&pretty=true")
	if r.code != http.StatusOK {
		t.Fatalf("GET multi/log with options = %d %s", r.code, r.body)
	}
	got := s.kubelet.LogRequests()[1]
	if got.Name != "multi" || got.Container != "b" || got.GetTailLines() != 5 || got.GetSinceSeconds() != 60 || !got.Timestamps ||
		!got.Previous || got.GetLimitBytes() != 100 || got.Follow {
		t.Fatalf("kubelet got %v, want the query's options", got)
	}
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if r, _ := s.getLog(t, "multi", "container=a&follow=false&sinceTime="+since); r.code != http.StatusOK {
		t.Fatalf("GET multi/log?sinceTime = %d %s", r.code, r.body)
	}
	got = s.kubelet.LogRequests()[2]
	if got.Container != "a" || got.Follow || got.GetSinceSeconds() < 3590 || got.GetSinceSeconds() > 3700 {
		t.Fatalf("kubelet got %v, want container a, sinceSeconds about 3600", got)
	}

	tests := []struct {
		name, pod, query string
		code             int
		reason, msg      string
	}{
		{"unknown pod", "nope", "", 404, "NotFound", `pods "nope" not found`},
		{"unscheduled", "pending", "", 400, "BadRequest", "pod pending does not have a host assigned"},
		{"container needed", "multi", "", 400, "BadRequest", "a container name must be specified for pod multi, choose one of: [a b]"},
		{"unknown container", "web", "container=side", 400, "BadRequest", "container side is not valid for pod web"},
		{"bad tailLines", "web", "tailLines=abc", 400, "BadRequest", `tailLines: invalid value "abc"`},
		{"bad limitBytes", "web", "limitBytes=1.5", 400, "BadRequest", `limitBytes: invalid value "1.5"`},
		{"bad sinceTime", "web", "sinceTime=yesterday", 400, "BadRequest", `sinceTime: invalid value "yesterday"`},
		{"negative tailLines", "web", "tailLines=-1", 422, "Invalid", "tailLines: Invalid value: -1"},
		{"since twice", "web", "sinceSeconds=5&sinceTime=" + since, 422, "Invalid", "at most one of `sinceTime` or `sinceSeconds`"},
		{"node not registered", "orphan", "", 503, "ServiceUnavailable", `node "ghost" is not registered`},
		{"kubelet down", "unreachable", "", 503, "ServiceUnavailable", `cannot reach the kubelet of node "node-down"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := s.getLog(t, tt.pod, tt.query)
			if r.code != tt.code {
				t.Fatalf("HTTP %d, want %d: %s", r.code, tt.code, r.body)
			}
			st := r.status(t)
			if st.Reason != tt.reason || !strings.Contains(st.Message, tt.msg) {
				t.Fatalf("Status %s %q, want %s containing %q", st.Reason, st.Message, tt.reason, tt.msg)
			}
		})
	}

	s.kubelet.SetLogError(status.Error(codes.NotFound, "container app has no previous instance"))
	r, _ = s.getLog(t, "web", "previous=true")
	if st := r.status(t); r.code != 404 || st.Message != "container app has no previous instance" {
		t.Fatalf("kubelet's NotFound = %d %s", r.code, r.body)
	}

	for _, method := range []string{"POST", "GET"} {
		r := s.do(t, method, podsPath+"web/exec?command=ls&stdout=true", nil)
		if st := r.status(t); r.code != http.StatusNotImplemented || !strings.Contains(st.Message, "not supported yet") {
			t.Fatalf("%s pods/exec = %d %s, want 501", method, r.code, r.body)
		}
	}
}

// TestPodLogRESTFollow checks that a followed log is flushed as it comes and
// that closing the response ends the kubelet's stream. It is not parallel,
// so that the goroutines it counts are its own.
func TestPodLogRESTFollow(t *testing.T) {
	s := startStreams(t)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	req, err := http.NewRequestWithContext(c, "GET", s.base+podsPath+"web/log?follow=true", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	resp, err := (&http.Client{Transport: s.http.Transport}).Do(req)
	if err != nil {
		t.Fatalf("GET log?follow: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("follow answered %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	readFull := func(want string) {
		t.Helper()
		buf := make([]byte, len(want))
		if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != want {
			t.Fatalf("read %q, %v; want %q", buf, err, want)
		}
	}
	readFull("one\ntwo\n")
	if !poll(10*time.Second, func() bool { return s.kubelet.Followers() == 1 }) {
		t.Fatal("the kubelet's stream never started following")
	}
	// Each pushed line arrives while the stream stays open: it is flushed.
	for _, line := range []string{"three\n", "four\n"} {
		if n := s.kubelet.Push(line); n != 1 {
			t.Fatalf("pushed to %d streams, want 1", n)
		}
		readFull(line)
	}
	cancel()
	resp.Body.Close()
	waitKubeletIdle(t, s.kubelet, "after the HTTP client went away")
	waitNoStreamGoroutines(t, "after the HTTP client went away")
}

// kubectl runs the real kubectl against a server.
type kubectl struct {
	bin, kubeconfig string
}

func newKubectl(t *testing.T, s *server) *kubectl {
	t.Helper()
	if s.ca == nil {
		return newKubectlConfig(t, "apiVersion: v1\nkind: Config\nclusters:\n- name: tugboat\n  cluster:\n    server: "+s.base+
			"\ncontexts:\n- name: tugboat\n  context:\n    cluster: tugboat\n    namespace: default\ncurrent-context: tugboat\n")
	}
	return newKubectlConfig(t, s.kubeconfig(s.admin))
}

func (k *kubectl) command(c context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(c, k.bin, append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", filepath.Join(filepath.Dir(k.kubeconfig), "cache")}, args...)...)
}

// run runs kubectl to its end and returns its combined output.
func (k *kubectl) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := k.command(ctx(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// lockedBuffer is an output buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestKubectlLogs runs the real kubectl logs (and exec) against the server.
func TestKubectlLogs(t *testing.T) {
	t.Parallel()
	s := startStreams(t)
	k := newKubectl(t, s.server)
	steps := []struct {
		args []string
		fail bool
		want []string
		// container etc. are what the kubelet must have been asked for.
		container        string
		tail, since      int64
		previous, stamps bool
	}{
		{args: []string{"logs", "web"}, want: []string{"one\ntwo\n"}, container: "app"},
		{args: []string{"logs", "multi", "-c", "b", "--tail=1", "--since=1h", "--timestamps", "-p"}, want: []string{"one\ntwo\n"},
			container: "b", tail: 1, since: 3600, previous: true, stamps: true},
		{args: []string{"logs", "pod/multi"}, want: []string{"one\ntwo\n"}, container: "a"},
		{args: []string{"logs", "nope"}, fail: true, want: []string{`pods "nope" not found`}},
		{args: []string{"logs", "pending"}, fail: true, want: []string{"pod pending does not have a host assigned"}},
		{args: []string{"logs", "web", "-c", "side"}, fail: true, want: []string{"container side is not valid for pod web"}},
		{args: []string{"exec", "web", "--", "ls"}, fail: true, want: []string{"not supported yet"}},
	}
	for _, st := range steps {
		before := len(s.kubelet.LogRequests())
		out, err := k.run(t, st.args...)
		t.Logf("kubectl %s:\n%s", strings.Join(st.args, " "), out)
		if (err != nil) != st.fail {
			t.Fatalf("kubectl %s: error %v, want failure %v:\n%s", strings.Join(st.args, " "), err, st.fail, out)
		}
		for _, w := range st.want {
			if !strings.Contains(out, w) {
				t.Fatalf("kubectl %s output lacks %q:\n%s", strings.Join(st.args, " "), w, out)
			}
		}
		if st.container == "" {
			continue
		}
		reqs := s.kubelet.LogRequests()
		if len(reqs) != before+1 {
			t.Fatalf("kubectl %s: kubelet got %d log requests, want 1", strings.Join(st.args, " "), len(reqs)-before)
		}
		r := reqs[before]
		if r.Container != st.container || r.GetTailLines() != st.tail || r.GetSinceSeconds() != st.since || r.Previous != st.previous || r.Timestamps != st.stamps {
			t.Fatalf("kubectl %s: kubelet got %v", strings.Join(st.args, " "), r)
		}
	}

	// kubectl logs -f prints lines as the kubelet writes them.
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	out := &lockedBuffer{}
	cmd := k.command(c, "logs", "-f", "web")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kubectl logs -f: %v", err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	waitOutput := func(want string) {
		t.Helper()
		if !poll(20*time.Second, func() bool { return strings.Contains(out.String(), want) }) {
			t.Fatalf("kubectl logs -f never printed %q:\n%s", want, out.String())
		}
	}
	waitOutput("one\ntwo\n")
	if !poll(10*time.Second, func() bool { return s.kubelet.Followers() == 1 }) {
		t.Fatal("the kubelet's stream never started following")
	}
	s.kubelet.Push("three\n")
	waitOutput("one\ntwo\nthree\n")
	cancel()
	_ = cmd.Wait()
	waitKubeletIdle(t, s.kubelet, "after kubectl logs -f was stopped")
}
