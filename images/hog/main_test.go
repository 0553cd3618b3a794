package main

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"200Mi": 200 << 20, "64Ki": 64 << 10, "1Gi": 1 << 30, "123": 123} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1Mi", "5MB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestAllocate(t *testing.T) {
	var reports []int64
	held := allocate(2<<20+5, func(n int64) { reports = append(reports, n) })
	if len(held) != 3 || len(held[2]) != 5 {
		t.Fatalf("%d chunks, last of %d bytes; want 3, 5", len(held), len(held[len(held)-1]))
	}
	if len(reports) != 3 || reports[2] != 2<<20+5 {
		t.Errorf("reports %v", reports)
	}
}
