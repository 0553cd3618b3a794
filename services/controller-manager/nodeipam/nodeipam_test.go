package nodeipam

import (
	"errors"
	"net/netip"
	"testing"
)

func TestAllocator(t *testing.T) {
	a, err := NewAllocator(netip.MustParsePrefix("10.244.0.0/22"), 24)
	if err != nil {
		t.Fatal(err)
	}
	a.Occupy("old", netip.MustParsePrefix("10.244.1.0/24"))
	want := map[string]string{"a": "10.244.0.0/24", "b": "10.244.2.0/24", "c": "10.244.3.0/24"}
	for _, n := range []string{"a", "b", "c"} {
		p, err := a.Allocate(n)
		if err != nil || p.String() != want[n] {
			t.Fatalf("Allocate(%s) = %v, %v; want %s", n, p, err, want[n])
		}
	}
	if p, _ := a.Allocate("a"); p.String() != "10.244.0.0/24" {
		t.Fatalf("a second Allocate(a) = %v, want its block again", p)
	}
	if _, err := a.Allocate("d"); !errors.Is(err, ErrFull) {
		t.Fatalf("Allocate on a full cluster CIDR = %v, want ErrFull", err)
	}
	a.Release("b")
	if p, err := a.Allocate("d"); err != nil || p.String() != "10.244.2.0/24" {
		t.Fatalf("Allocate(d) after releasing b = %v, %v; want b's block", p, err)
	}
	if _, err := NewAllocator(netip.MustParsePrefix("10.244.0.0/16"), 16); err == nil {
		t.Fatal("a /16 block of a /16 cluster was accepted")
	}
}

// A block two nodes claim is reported, and stays taken until both have
// released it.
func TestAllocatorConflict(t *testing.T) {
	a, err := NewAllocator(netip.MustParsePrefix("10.244.0.0/22"), 24)
	if err != nil {
		t.Fatal(err)
	}
	shared := netip.MustParsePrefix("10.244.0.0/24")
	if err := a.Occupy("a", shared); err != nil {
		t.Fatalf("first Occupy: %v", err)
	}
	if err := a.Occupy("a", shared); err != nil {
		t.Fatalf("the same node observed again: %v", err)
	}
	if err := a.Occupy("b", shared); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second node on an occupied block: Occupy = %v, want ErrConflict", err)
	}
	a.Release("a")
	if p, err := a.Allocate("c"); err != nil || p == shared {
		t.Fatalf("Allocate(c) after a released = %v, %v; want another block than %s, which b still holds", p, err, shared)
	}
	a.Release("b")
	if p, err := a.Allocate("d"); err != nil || p != shared {
		t.Fatalf("Allocate(d) once both released = %v, %v; want %s", p, err, shared)
	}
	// A node moving to another block frees its old one.
	if err := a.Occupy("d", netip.MustParsePrefix("10.244.3.0/24")); err != nil {
		t.Fatal(err)
	}
	if p, _ := a.Allocate("e"); p != shared {
		t.Fatalf("Allocate(e) = %v, want %s freed by d's move", p, shared)
	}
}
