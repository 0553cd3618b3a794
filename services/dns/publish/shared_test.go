package publish

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
)

// dnsPorts are the ports every publisher with port 53 advertises.
func dnsPorts(port int32) []*corev1.EndpointPort {
	return []*corev1.EndpointPort{{Name: "dns", Port: port, Protocol: "UDP"}, {Name: "dns-tcp", Port: port, Protocol: "TCP"}}
}

// addrs returns the ready addresses of the subset with ports port, and
// the number of subsets.
func addrs(ss []*corev1.EndpointSubset, port int32) ([]string, int) {
	var ips []string
	for _, s := range ss {
		if samePorts(s.GetPorts(), dnsPorts(port)) {
			for _, a := range s.GetAddresses() {
				ips = append(ips, a.GetIp())
			}
		}
	}
	slices.Sort(ips)
	return ips, len(ss)
}

func publisher(svcs *services, eps *endpoints, ip string) *Publisher {
	return &Publisher{Services: svcs, Endpoints: eps, Log: zap.NewNop(),
		Spec: Spec{ServiceIP: "10.96.0.10", Address: ip, Port: 53}}
}

// TestTwoPublishers: two instances (two nodes) share the Endpoints: each
// adds its address, neither removes the other's, a settled pair writes
// nothing, and withdrawing removes only the withdrawing one's address.
func TestTwoPublishers(t *testing.T) {
	ctx := context.Background()
	svcs, eps := &services{}, &endpoints{}
	a, b := publisher(svcs, eps, "10.244.0.1"), publisher(svcs, eps, "10.244.1.1")
	step := func(name string, f func(context.Context) error, wantIPs []string, wantSubsets int) {
		t.Helper()
		if err := f(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ss, _ := eps.snapshot()
		if ips, n := addrs(ss, 53); !slices.Equal(ips, wantIPs) || n != wantSubsets {
			t.Fatalf("after %s: addresses %v in %d subsets, want %v in %d", name, ips, n, wantIPs, wantSubsets)
		}
	}
	step("a ensures", a.Ensure, []string{"10.244.0.1"}, 1)
	step("b ensures", b.Ensure, []string{"10.244.0.1", "10.244.1.1"}, 1)
	_, writes := eps.snapshot()
	step("a ensures again", a.Ensure, []string{"10.244.0.1", "10.244.1.1"}, 1)
	step("b ensures again", b.Ensure, []string{"10.244.0.1", "10.244.1.1"}, 1)
	if _, w := eps.snapshot(); w != writes {
		t.Fatalf("settled publishers wrote %d more times, want 0", w-writes)
	}
	step("a withdraws", a.Withdraw, []string{"10.244.1.1"}, 1)
	step("a withdraws again", a.Withdraw, []string{"10.244.1.1"}, 1)
	if _, w := eps.snapshot(); w != writes+1 {
		t.Fatalf("%d writes for two withdrawals, want 1", w-writes)
	}
	step("b ensures after a left", b.Ensure, []string{"10.244.1.1"}, 1)
	step("b withdraws", b.Withdraw, nil, 0)
}

func TestEnsureMerges(t *testing.T) {
	other := func() *corev1.Endpoints {
		return &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: Namespace, Name: Name}, Subsets: []*corev1.EndpointSubset{
			{Addresses: []*corev1.EndpointAddress{{Ip: "10.244.9.9"}}, Ports: dnsPorts(53)},
			{Addresses: []*corev1.EndpointAddress{{Ip: "10.244.8.8"}}, Ports: dnsPorts(5353)},
		}}
	}
	for _, tc := range []struct {
		name     string
		mutate   func(*corev1.Endpoints)
		race     bool // another publisher writes between our read and our update
		wantIPs  []string
		wantNRdy int // not-ready addresses left in the port-53 subset
	}{
		{name: "added beside another instance, other ports' subset kept", wantIPs: []string{"10.244.0.1", "10.244.9.9"}},
		{name: "not ready moved to ready", mutate: func(e *corev1.Endpoints) {
			e.Subsets[0].NotReadyAddresses = []*corev1.EndpointAddress{{Ip: "10.244.0.1"}}
		}, wantIPs: []string{"10.244.0.1", "10.244.9.9"}},
		{name: "a concurrent publisher's write is not lost", race: true, wantIPs: []string{"10.244.0.1", "10.244.1.1", "10.244.9.9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svcs, eps := &services{}, &endpoints{}
			ep := other()
			if tc.mutate != nil {
				tc.mutate(ep)
			}
			eps.store(ep)
			a := publisher(svcs, eps, "10.244.0.1")
			if tc.race {
				b := publisher(svcs, eps, "10.244.1.1")
				eps.beforeUpdate = func() {
					if err := b.Ensure(context.Background()); err != nil {
						t.Errorf("b: %v", err)
					}
				}
			}
			if err := a.Ensure(context.Background()); err != nil {
				t.Fatal(err)
			}
			ss, _ := eps.snapshot()
			if ips, n := addrs(ss, 53); !slices.Equal(ips, tc.wantIPs) || n != 2 {
				t.Fatalf("port-53 addresses %v in %d subsets, want %v in 2", ips, n, tc.wantIPs)
			}
			if ips, _ := addrs(ss, 5353); !slices.Equal(ips, []string{"10.244.8.8"}) {
				t.Fatalf("port-5353 subset %v, want it kept", ips)
			}
			for _, s := range ss {
				if len(s.GetNotReadyAddresses()) != tc.wantNRdy {
					t.Fatalf("not-ready addresses %v, want %d", s.GetNotReadyAddresses(), tc.wantNRdy)
				}
			}
		})
	}
}

// TestRunWithdrawsOnShutdown: when its context ends, Run takes its own
// address out and leaves the other instance's.
func TestRunWithdrawsOnShutdown(t *testing.T) {
	svcs, eps := &services{}, &endpoints{}
	if err := publisher(svcs, eps, "10.244.1.1").Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		publisher(svcs, eps, "10.244.0.1").Run(ctx, nil, time.Hour)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ss, _ := eps.snapshot()
		if ips, _ := addrs(ss, 53); slices.Equal(ips, []string{"10.244.0.1", "10.244.1.1"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run did not publish its address within 5s: %v", ss)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(WithdrawTimeout + 5*time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	ss, _ := eps.snapshot()
	if ips, n := addrs(ss, 53); !slices.Equal(ips, []string{"10.244.1.1"}) || n != 1 {
		t.Fatalf("after shutdown: addresses %v in %d subsets, want [10.244.1.1] in 1", ips, n)
	}
}
