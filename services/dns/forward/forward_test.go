package forward

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/tugboat-sh/tugboat/services/dns/internal/fake"
)

func query(name string) *dns.Msg {
	m := new(dns.Msg).SetQuestion(name, dns.TypeA)
	m.Id = 99
	return m
}

func TestExchange(t *testing.T) {
	plain := fake.StartUpstream(t, "192.0.2.1", false)
	truncating := fake.StartUpstream(t, "192.0.2.2", true)
	silent := fake.Silent(t)
	for _, tc := range []struct {
		name      string
		upstreams []string
		want      string // the A answered; empty: no upstream answers
	}{
		{"UDP answer", []string{plain.Addr}, "192.0.2.1"},
		{"truncated over UDP, retried over TCP", []string{truncating.Addr}, "192.0.2.2"},
		{"first upstream silent, second answers", []string{silent, plain.Addr}, "192.0.2.1"},
		{"no upstream answers", []string{silent}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(tc.upstreams, 300*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := f.Exchange(context.Background(), query("example.com."))
			if tc.want == "" {
				if !errors.Is(err, ErrNoUpstream) {
					t.Fatalf("Exchange = %v, %v; want ErrNoUpstream", resp, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Id != 99 || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != tc.want {
				t.Fatalf("answer = %v, want A %s with id 99", resp, tc.want)
			}
		})
	}
	if truncating.UDP.Load() == 0 || truncating.TCP.Load() == 0 {
		t.Fatalf("truncating upstream saw %d UDP and %d TCP queries, want both", truncating.UDP.Load(), truncating.TCP.Load())
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"127.0.0.1", "127.0.0.1:53", ""},
		{"127.0.0.1:5353", "127.0.0.1:5353", ""},
		{"::1", "[::1]:53", ""},
		{"dns.example", "", "not an IP address"},
		{"127.0.0.1:", "", "not an IP address"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.in) {
					t.Fatalf("Normalize = %q, %v; want an error naming %q", got, err, tc.in)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Normalize = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
