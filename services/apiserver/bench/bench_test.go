package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestQuickRun runs the whole harness at toy sizes and checks that the report
// has every figure, each with positive numbers. It asserts nothing about
// speed: performance is what the harness reports, not what tests decide.
func TestQuickRun(t *testing.T) {
	o := defaultOptions()
	o.applyQuick()
	o.quick = true
	o.noFsync = true
	o.duration = 200 * time.Millisecond
	o.readTime = 100 * time.Millisecond
	o.listSizes = []int{10, 30}
	o.watchers = 3
	o.watchDuration = 200 * time.Millisecond
	var log io.Writer = io.Discard
	if testing.Verbose() {
		log = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := run(ctx, o, log)
	if err != nil {
		t.Fatalf("run: %v", err)
	}

	rows := res.rows()
	want := []string{
		"pod creates/s, 2 clients (gRPC)",
		"pod creates/s, 4 clients (gRPC)",
		"GET one pod (gRPC)",
		"LIST 10 pods (gRPC)",
		"LIST 10 pods (REST JSON)",
		"LIST 30 pods (gRPC)",
		"watch delivery, 3 watchers, 50 creates/s",
		"pod creates/s, 2 clients, TLS + client certificate + Node,RBAC (gRPC)",
		"pod creates/s, 2 clients, TLS + client certificate + Node,RBAC + audit log (gRPC)",
		"pod creates/s, 2 clients, security off, second apiserver vs first (noise)",
		"pod creates/s, 4 clients, TLS + client certificate + Node,RBAC (gRPC)",
		"pod creates/s, 4 clients, TLS + client certificate + Node,RBAC + audit log (gRPC)",
		"pod creates/s, 4 clients, security off, second apiserver vs first (noise)",
	}
	if len(rows) != len(want) {
		t.Errorf("report has %d rows, want %d", len(rows), len(want))
	}
	md := res.markdown()
	for i, name := range want {
		if i >= len(rows) {
			break
		}
		if rows[i].figure != name {
			t.Errorf("row %d is %q, want %q", i, rows[i].figure, name)
		}
		for j, v := range rows[i].values {
			if !(v > 0) {
				t.Errorf("row %q: value %d is %v, want a positive number", name, j, v)
			}
		}
		if !strings.Contains(md, "| "+name+" |") {
			t.Errorf("markdown lacks the row %q", name)
		}
	}
	for _, s := range []string{"## Machine", "CPUs (nproc):", "memory:", "kernel:", "Go: go", "`make bench`", "## Targets"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q", s)
		}
	}
	if res.podBytes <= 0 {
		t.Errorf("stored pod size %d, want positive", res.podBytes)
	}
}

// TestSecurityOnly runs only the security comparison at toy sizes: its
// six rows, each with positive numbers.
func TestSecurityOnly(t *testing.T) {
	o := defaultOptions()
	o.applyQuick()
	o.securityOnly = true
	o.noFsync = true
	o.duration = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := run(ctx, o, io.Discard)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	rows := res.rows()
	if len(rows) != 6 || len(res.creates) != 0 {
		t.Fatalf("%d rows and %d create phases, want the 6 security rows only", len(rows), len(res.creates))
	}
	for _, r := range rows {
		if !strings.Contains(r.figure, "clients") {
			t.Errorf("row %q is not a security row", r.figure)
		}
		for j, v := range r.values {
			if !(v > 0) {
				t.Errorf("row %q: value %d is %v, want a positive number", r.figure, j, v)
			}
		}
	}
}
