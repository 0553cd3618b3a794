package stream

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

// fakeStreaming serves what a runtime's streaming server serves for CRI
// Exec (remotecommand v4 over SPDY, as containerd 1.6 does) on 127.0.0.1,
// running fake commands named by the URL's cmd parameters:
//
//	cat    copies stdin to stdout until stdin ends
//	fail   writes "out" to stdout and "err" to stderr, exits 3
//	nope   is not found: the runtime's error, no exit code
//	size   prints the first terminal size it gets as "rows cols"
//	big N  writes N bytes to stdout
//
// It returns the URL for fakeRuntime.execURL.
func fakeStreaming(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(serveFakeExec))
	t.Cleanup(srv.Close)
	return srv.URL + "/exec/token"
}

func serveFakeExec(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	if _, err := httpstream.Handshake(req, w, []string{"v4.channel.k8s.io"}); err != nil {
		return
	}
	streams := make(chan httpstream.Stream, 8)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, req, func(s httpstream.Stream, _ <-chan struct{}) error {
		streams <- s
		return nil
	})
	if conn == nil {
		return
	}
	defer conn.Close()
	tty := q.Get("tty") == "1"
	want := 1 // error
	for _, name := range []string{"stdin", "stdout", "stderr"} {
		if q.Get(name) == "1" && !(name == "stderr" && tty) {
			want++
		}
	}
	if tty {
		want++ // resize
	}
	got := map[string]httpstream.Stream{}
	for len(got) < want {
		select {
		case s := <-streams:
			got[s.Headers().Get("streamType")] = s
		case <-time.After(10 * time.Second):
			return
		}
	}
	write := func(name, text string) {
		if s := got[name]; s != nil {
			io.WriteString(s, text)
		}
	}
	cmd := q["cmd"]
	result := `{"metadata":{},"status":"Success"}`
	switch cmd[0] {
	case "cat":
		if got["stdin"] != nil && got["stdout"] != nil {
			io.Copy(got["stdout"], got["stdin"])
		}
	case "fail":
		write("stdout", "out\n")
		write("stderr", "err\n")
		result = `{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: exit status 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}`
	case "nope":
		result = `{"metadata":{},"status":"Failure","message":"Internal error occurred: error executing command in container: failed to exec in container: failed to start exec \"x\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"nope\": executable file not found in $PATH: unknown","reason":"InternalError","code":500}`
	case "size":
		var size struct{ Width, Height uint16 }
		if err := json.NewDecoder(got["resize"]).Decode(&size); err == nil {
			write("stdout", fmt.Sprintf("%d %d\n", size.Height, size.Width))
		}
	case "big":
		var n int
		fmt.Sscan(cmd[1], &n)
		write("stdout", strings.Repeat("z", n))
	}
	write("error", result)
	for _, s := range got {
		s.Close()
	}
	select {
	case <-conn.CloseChan():
	case <-time.After(10 * time.Second):
	}
}
