package rest

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
)

func TestLogOptions(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n := func(v int64) *int64 { return &v }
	opts := func(o *corev1.PodLogOptions) *corev1.PodLogOptions {
		o.Namespace, o.Name = "ns", "p"
		return o
	}
	tests := []struct {
		query string
		want  *corev1.PodLogOptions
		code  int
		msg   string
	}{
		{query: "", want: opts(&corev1.PodLogOptions{})},
		{query: "container=c&follow=true&previous=1&timestamps", want: opts(&corev1.PodLogOptions{Container: "c", Follow: true, Previous: true, Timestamps: true})},
		{query: "follow=false&previous=0&timestamps=FALSE", want: opts(&corev1.PodLogOptions{})},
		{query: "sinceSeconds=10&tailLines=0&limitBytes=5", want: opts(&corev1.PodLogOptions{SinceSeconds: n(10), TailLines: n(0), LimitBytes: n(5)})},
		{query: "sinceTime=2026-01-02T02:04:05Z", want: opts(&corev1.PodLogOptions{SinceSeconds: n(3600)})},
		{query: "sinceTime=2026-01-02T03:04:04.5Z", want: opts(&corev1.PodLogOptions{SinceSeconds: n(1)})},
		{query: "sinceTime=2027-01-01T00:00:00Z", want: opts(&corev1.PodLogOptions{SinceSeconds: n(1)})},
		{query: "unknown=1&pretty=true", want: opts(&corev1.PodLogOptions{})},
		{query: "tailLines=abc", code: 400, msg: `tailLines: invalid value "abc": must be an integer`},
		{query: "sinceSeconds=", code: 400, msg: `sinceSeconds: invalid value "": must be an integer`},
		{query: "limitBytes=1e3", code: 400, msg: `limitBytes: invalid value "1e3": must be an integer`},
		{query: "sinceTime=now", code: 400, msg: `sinceTime: invalid value "now": must be an RFC 3339 time`},
		{query: "sinceSeconds=1&sinceTime=2026-01-02T02:04:05Z", code: 422,
			msg: "PodLogOptions \"p\" is invalid: at most one of `sinceTime` or `sinceSeconds` may be specified"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, st := logOptions("ns", "p", q, now)
			if tt.code != 0 {
				if st == nil || int(st.Code) != tt.code || st.Message != tt.msg {
					t.Fatalf("logOptions = %v, %v; want %d %q", got, st, tt.code, tt.msg)
				}
				return
			}
			if st != nil || !proto.Equal(got, tt.want) {
				t.Fatalf("logOptions = %v, %v; want %v", got, st, tt.want)
			}
		})
	}
}

func TestPodExecOverRESTIsNotImplemented(t *testing.T) {
	h := newHarness(t)
	for _, method := range []string{"POST", "GET"} {
		r := h.do(t, method, "/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true", "")
		if r.code != http.StatusNotImplemented || r.json(t)["reason"] != "NotImplemented" {
			t.Fatalf("%s pods/exec = %d %s, want 501 NotImplemented", method, r.code, r.body)
		}
	}
}
