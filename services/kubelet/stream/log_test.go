package stream

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

func TestParseRecord(t *testing.T) {
	for _, tc := range []struct {
		line    string
		stream  string
		partial bool
		text    string
		bad     bool
	}{
		{line: "2016-10-06T00:17:09.669794202Z stdout F log content 1\n", stream: "stdout", text: "log content 1"},
		{line: "2016-10-06T00:17:09.669794203Z stderr P part\n", stream: "stderr", partial: true, text: "part"},
		{line: "2016-10-06T00:17:09.669794203+02:00 stdout F:x tagged\n", stream: "stdout", text: "tagged"},
		{line: "2016-10-06T00:17:09Z stdout F  two  spaces \n", stream: "stdout", text: " two  spaces "},
		{line: "2016-10-06T00:17:09Z stdout F \n", stream: "stdout", text: ""},
		{line: "2016-10-06T00:17:09Z stdout F\n", stream: "stdout", text: ""},
		{line: "2016-10-06T00:17:09Z stdout F no newline", stream: "stdout", text: "no newline"},
		{line: "not a time stdout F x\n", bad: true},
		{line: "2016-10-06T00:17:09Z stdin F x\n", bad: true},
		{line: "2016-10-06T00:17:09Z stdout X x\n", bad: true},
		{line: "2016-10-06T00:17:09Z\n", bad: true},
		{line: "\n", bad: true},
	} {
		t.Run(strings.TrimSpace(tc.line), func(t *testing.T) {
			r, err := parseRecord([]byte(tc.line))
			if tc.bad {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", r)
				}
				return
			}
			if err != nil || string(r.stream) != tc.stream || r.partial != tc.partial || string(r.text) != tc.text {
				t.Fatalf("got %+v %q, %v", r, r.text, err)
			}
		})
	}
}

// sample is a log of five lines, one of them written in three partial
// records, one on stderr, with a malformed line in between.
var sample = []string{
	rec(0, "stdout", "F", "first"),
	rec(10, "stderr", "F", "second on stderr"),
	rec(20, "stdout", "P", "thi"),
	"garbage that is not a CRI line\n",
	rec(21, "stdout", "P", "rd in "),
	rec(22, "stdout", "F", "parts"),
	rec(30, "stdout", "F", ""),
	rec(40, "stdout", "F", "fifth"),
}

func TestLog(t *testing.T) {
	all := "first\nsecond on stderr\nthird in parts\n\nfifth\n"
	ts := func(sec int) string {
		return base.Add(time.Duration(sec)*time.Second).Format("2006-01-02T15:04:05.000000000Z07:00") + " "
	}
	for _, tc := range []struct {
		name string
		opts *corev1.PodLogOptions
		now  time.Time // for since; zero is time.Now
		want string
	}{
		{name: "all, stdout and stderr merged, partial records joined", opts: &corev1.PodLogOptions{}, want: all},
		{name: "tail counts joined lines", opts: &corev1.PodLogOptions{TailLines: ptr(int64(3))}, want: "third in parts\n\nfifth\n"},
		{name: "tail 1", opts: &corev1.PodLogOptions{TailLines: ptr(int64(1))}, want: "fifth\n"},
		{name: "tail 0", opts: &corev1.PodLogOptions{TailLines: ptr(int64(0))}, want: ""},
		{name: "tail beyond the start", opts: &corev1.PodLogOptions{TailLines: ptr(int64(100))}, want: all},
		{name: "since drops older lines", opts: &corev1.PodLogOptions{SinceSeconds: ptr(int64(35))}, now: base.Add(50 * time.Second), want: "third in parts\n\nfifth\n"},
		{name: "since decides a line by its first record", opts: &corev1.PodLogOptions{SinceSeconds: ptr(int64(30))}, now: base.Add(50*time.Second + 500*time.Millisecond), want: "\nfifth\n"},
		{name: "since in the future of every line", opts: &corev1.PodLogOptions{SinceSeconds: ptr(int64(1))}, now: base.Add(time.Hour), want: ""},
		{name: "timestamps once per line", opts: &corev1.PodLogOptions{Timestamps: true, TailLines: ptr(int64(3))}, want: ts(20) + "third in parts\n" + ts(30) + "\n" + ts(40) + "fifth\n"},
		{name: "limit bytes", opts: &corev1.PodLogOptions{LimitBytes: ptr(int64(10))}, want: "first\nseco"},
		{name: "limit bytes counts timestamps", opts: &corev1.PodLogOptions{LimitBytes: ptr(int64(33)), Timestamps: true}, want: ts(0) + "fi"},
		{name: "limit beyond the log", opts: &corev1.PodLogOptions{LimitBytes: ptr(int64(1000))}, want: all},
		{name: "tail, since and limit together", opts: &corev1.PodLogOptions{TailLines: ptr(int64(4)), SinceSeconds: ptr(int64(35)), LimitBytes: ptr(int64(3))}, now: base.Add(60 * time.Second), want: "\nfi"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			appendLog(t, path, sample...)
			opts, err := logOptionsFrom(tc.opts, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if tc.now.IsZero() {
				opts.since = time.Time{}
			}
			var out []byte
			ch := &chunker{send: func(b []byte) error { out = append(out, b...); return nil }, remain: opts.limit}
			if err := readFile(t, opts, ch, nil, path); err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Fatalf("got %q, want %q", out, tc.want)
			}
		})
	}
}

// readFile runs a logReader over the file at path and flushes.
func readFile(t *testing.T, opts logOptions, ch *chunker, fl *follower, path string) error {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := newLogReader(opts, ch, testLogger(t), fl).read(context.Background(), f); err != nil {
		return err
	}
	return ch.flush()
}

func TestLogUnfinishedLastRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	appendLog(t, path, rec(0, "stdout", "F", "done"), strings.TrimSuffix(rec(1, "stdout", "F", "half"), "\n"))
	loc := &mapLocator{m: map[string]Container{"ns/p/c": {ID: "id", LogPath: path}}}
	c := serve(t, newTestServer(t, exited(), loc))
	got, _, err := readLog(context.Background(), c, &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "c"})
	if err != nil || got != "done\nhalf\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestLogChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	var recs []string
	line := strings.Repeat("y", 99)
	for i := 0; i < 5000; i++ {
		recs = append(recs, rec(i, "stdout", "F", line))
	}
	appendLog(t, path, recs...)
	loc := &mapLocator{m: map[string]Container{"ns/p/c": {ID: "id", LogPath: path}}}
	c := serve(t, newTestServer(t, exited(), loc))
	got, chunks, err := readLog(context.Background(), c, &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "c"})
	if err != nil || len(got) != 500000 {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	// 500,000 bytes in 32 KiB chunks.
	if want := (500000 + chunkSize - 1) / chunkSize; chunks != want {
		t.Fatalf("got %d chunks, want %d", chunks, want)
	}
}

func TestLogErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	appendLog(t, path, sample...)
	loc := &mapLocator{m: map[string]Container{
		"ns/p/c":          {ID: "id", LogPath: path},
		"ns/p/c/previous": {ID: "old", LogPath: filepath.Join(dir, "gone.log")},
		"ns/p/nolog":      {ID: "id2"},
	}}
	c := serve(t, newTestServer(t, exited(), loc))
	for _, tc := range []struct {
		name string
		opts *corev1.PodLogOptions
		code codes.Code
		msg  string
	}{
		{"no container", &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "x"}, codes.NotFound, `container "x" in pod "p" not found`},
		{"no previous container", &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "nolog", Previous: true}, codes.NotFound, `previous terminated container "nolog" in pod "p" not found`},
		{"log file gone", &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "c", Previous: true}, codes.NotFound, `log of container "c" in pod "p" not found`},
		{"no log path", &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "nolog"}, codes.NotFound, "has no log file"},
		{"no pod name", &corev1.PodLogOptions{Namespace: "ns", Container: "c"}, codes.InvalidArgument, "pod name"},
		{"negative tail", &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "c", TailLines: ptr(int64(-1))}, codes.InvalidArgument, "tailLines"},
		{"zero since", &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "c", SinceSeconds: ptr(int64(0))}, codes.InvalidArgument, "sinceSeconds"},
		{"zero limit", &corev1.PodLogOptions{Namespace: "ns", Name: "p", Container: "c", LimitBytes: ptr(int64(0))}, codes.InvalidArgument, "limitBytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readLog(context.Background(), c, tc.opts)
			if status.Code(err) != tc.code || !strings.Contains(status.Convert(err).Message(), tc.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.code, tc.msg)
			}
		})
	}
}

func TestLocatorStatusPassesThrough(t *testing.T) {
	s := newTestServer(t, exited(), locatorFunc(func(string, string, string, bool) (Container, error) {
		return Container{}, status.Error(codes.FailedPrecondition, `container "c" in pod "p" is waiting to start`)
	}))
	_, err := s.locate("ns", "p", "c", false)
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("got %v", err)
	}
	s.loc = locatorFunc(func(string, string, string, bool) (Container, error) { return Container{}, context.DeadlineExceeded })
	if _, err := s.locate("ns", "p", "c", false); status.Code(err) != codes.Internal {
		t.Fatalf("got %v", err)
	}
}

type locatorFunc func(namespace, pod, container string, previous bool) (Container, error)

func (f locatorFunc) Container(namespace, pod, container string, previous bool) (Container, error) {
	return f(namespace, pod, container, previous)
}
