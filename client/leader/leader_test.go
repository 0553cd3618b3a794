package leader

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/fake"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	ns   = "kube-system"
	name = "tug-controller-manager"
)

func startFake(t *testing.T) (*fake.Server, coordinationv1.LeaseServiceClient) {
	t.Helper()
	srv, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return srv, coordinationv1.NewLeaseServiceClient(conn)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// candidate runs one elector and records what it saw.
type candidate struct {
	id      string
	cancel  context.CancelFunc
	done    chan error
	leading atomic.Bool
	stopped atomic.Bool
	mu      sync.Mutex
	leaders []string
}

// cluster counts concurrent leaders across candidates.
type cluster struct {
	active  atomic.Int32
	overlap atomic.Bool
}

func (c *cluster) start(t *testing.T, client coordinationv1.LeaseServiceClient, id string, release bool) *candidate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cand := &candidate{id: id, cancel: cancel, done: make(chan error, 1)}
	cfg := Config{
		Client: client, Namespace: ns, Name: name, Identity: id,
		LeaseDuration: time.Second, RenewDeadline: 600 * time.Millisecond, RetryPeriod: 100 * time.Millisecond,
		ReleaseOnCancel: release,
		OnStartedLeading: func(ctx context.Context) {
			if c.active.Add(1) > 1 {
				c.overlap.Store(true)
			}
			cand.leading.Store(true)
			<-ctx.Done()
			cand.leading.Store(false)
			c.active.Add(-1)
		},
		OnStoppedLeading: func() { cand.stopped.Store(true) },
		OnNewLeader: func(l string) {
			cand.mu.Lock()
			defer cand.mu.Unlock()
			cand.leaders = append(cand.leaders, l)
		},
	}
	go func() { cand.done <- Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		<-cand.done
	})
	return cand
}

func (c *candidate) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("Run of %s did not return", c.id)
		return nil
	}
}

func lease(t *testing.T, srv *fake.Server) *coordinationv1.Lease {
	t.Helper()
	l, err := srv.Leases.Get(ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestOneLeaderAndTakeoverOnRelease(t *testing.T) {
	srv, client := startFake(t)
	var cl cluster
	a := cl.start(t, client, "a", true)
	b := cl.start(t, client, "b", true)
	waitFor(t, "a leader", func() bool { return a.leading.Load() || b.leading.Load() })
	first, second := a, b
	if b.leading.Load() {
		first, second = b, a
	}
	// Let the leader renew a few times: the other must keep waiting.
	rv := lease(t, srv).GetMetadata().GetResourceVersion()
	waitFor(t, "three renewals", func() bool {
		return srv.Leases.Revision() >= mustAtoi(t, rv)+3
	})
	if second.leading.Load() || cl.overlap.Load() {
		t.Fatal("two candidates lead at once")
	}
	if h := lease(t, srv).GetSpec().GetHolderIdentity(); h != first.id {
		t.Fatalf("lease holder = %q, want %q", h, first.id)
	}
	if tr := lease(t, srv).GetSpec().GetLeaseTransitions(); tr != 0 {
		t.Fatalf("leaseTransitions = %d before any takeover, want 0", tr)
	}

	first.cancel()
	if err := first.wait(t); err != nil {
		t.Fatalf("Run of the cancelled leader = %v, want nil", err)
	}
	if !first.stopped.Load() {
		t.Fatal("OnStoppedLeading not called on the cancelled leader")
	}
	waitFor(t, "takeover", func() bool { return second.leading.Load() })
	l := lease(t, srv)
	if h := l.GetSpec().GetHolderIdentity(); h != second.id {
		t.Fatalf("lease holder = %q after takeover, want %q", h, second.id)
	}
	if tr := l.GetSpec().GetLeaseTransitions(); tr != 1 {
		t.Fatalf("leaseTransitions = %d after takeover, want 1", tr)
	}
	if cl.overlap.Load() {
		t.Fatal("two candidates led at once")
	}
	second.mu.Lock()
	defer second.mu.Unlock()
	if got := strings.Join(second.leaders, ","); got != first.id+","+second.id {
		t.Fatalf("OnNewLeader on %s saw %q, want %s,%s", second.id, got, first.id, second.id)
	}
}

func TestTakeoverAfterExpiryWithoutRelease(t *testing.T) {
	srv, client := startFake(t)
	var cl cluster
	a := cl.start(t, client, "a", false)
	waitFor(t, "a leads", func() bool { return a.leading.Load() })
	b := cl.start(t, client, "b", false)
	a.cancel()
	a.wait(t)
	stopped := lease(t, srv)
	if h := stopped.GetSpec().GetHolderIdentity(); h != "a" {
		t.Fatalf("holder = %q after a stopped without release, want a until expiry", h)
	}
	// The lease expires 1s after a's last renewal, which a stamped with
	// its own clock (before the server stamped creationTimestamp).
	lastRenew := stopped.GetSpec().GetRenewTime().AsTime()
	waitFor(t, "b leads after expiry", func() bool { return b.leading.Load() })
	l := lease(t, srv)
	if l.GetSpec().GetHolderIdentity() != "b" || l.GetSpec().GetLeaseTransitions() != 1 {
		t.Fatalf("lease = %v, want holder b with 1 transition", l.GetSpec())
	}
	if acquired := l.GetSpec().GetAcquireTime().AsTime(); acquired.Sub(lastRenew) < time.Second {
		t.Fatalf("b acquired %v after a's last renewal, want after the 1s lease expired", acquired.Sub(lastRenew))
	}
}

func TestLeadershipLostWhenRenewalFails(t *testing.T) {
	srv, client := startFake(t)
	var cl cluster
	a := cl.start(t, client, "a", true)
	waitFor(t, "a leads", func() bool { return a.leading.Load() })
	srv.Leases.Fail(fake.OpGet, status.Error(codes.Unavailable, "apiserver down"))
	if err := a.wait(t); !errors.Is(err, ErrLeadershipLost) {
		t.Fatalf("Run = %v, want ErrLeadershipLost", err)
	}
	waitFor(t, "the leading context cancelled", func() bool { return !a.leading.Load() })
	if !a.stopped.Load() {
		t.Fatal("OnStoppedLeading not called")
	}
}

func TestConfigValidation(t *testing.T) {
	_, client := startFake(t)
	noop := func(context.Context) {}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no client", Config{Name: "l", Identity: "a", OnStartedLeading: noop}, "Client"},
		{"no identity", Config{Client: client, Name: "l", OnStartedLeading: noop}, "Identity"},
		{"no callback", Config{Client: client, Name: "l", Identity: "a"}, "OnStartedLeading"},
		{"deadline too long", Config{Client: client, Name: "l", Identity: "a", OnStartedLeading: noop,
			LeaseDuration: time.Second, RenewDeadline: 2 * time.Second}, "RenewDeadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q is not decimal: %v", s, err)
	}
	return n
}

// Run returns only after OnStartedLeading has returned, so the leader's
// work never outlives its leadership.
func TestRunWaitsForTheLeaderWork(t *testing.T) {
	_, client := startFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var workDone atomic.Bool
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Config{Client: client, Namespace: "default", Name: "wait", Identity: "a",
			LeaseDuration: time.Second, RenewDeadline: 500 * time.Millisecond, RetryPeriod: 100 * time.Millisecond,
			OnStartedLeading: func(lctx context.Context) {
				close(started)
				<-lctx.Done()
				// Work still finishing after leadership ended.
				time.Sleep(200 * time.Millisecond)
				workDone.Store(true)
			}})
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("never led")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if !workDone.Load() {
		t.Fatal("Run returned before OnStartedLeading did")
	}
}
