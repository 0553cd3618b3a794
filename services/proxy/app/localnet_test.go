package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalnetRestore runs enable (twice, as a restarting proxy does) and
// restore against a file standing for the sysctl.
func TestLocalnetRestore(t *testing.T) {
	for _, tc := range []struct {
		name, before string
		recorded     bool
	}{
		{name: "was 0: set, then put back", before: "0\n", recorded: true},
		{name: "was 1: left alone", before: "1\n", recorded: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sysctl, state := filepath.Join(dir, "route_localnet"), filepath.Join(dir, "state")
			if err := os.WriteFile(sysctl, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := enableLocalnet(sysctl, state); err != nil {
					t.Fatalf("enable: %v", err)
				}
				if got, _ := os.ReadFile(sysctl); strings.TrimSpace(string(got)) != "1" {
					t.Fatalf("after enable the sysctl is %q, want 1", got)
				}
			}
			restored, err := restoreLocalnet(sysctl, state)
			if err != nil || restored != tc.recorded {
				t.Fatalf("restore = %v, %v; want %v, nil", restored, err, tc.recorded)
			}
			if got, _ := os.ReadFile(sysctl); string(got) != tc.before {
				t.Fatalf("after restore the sysctl is %q, want %q", got, tc.before)
			}
			if _, err := os.Stat(filepath.Join(state, localnetStateFile)); !os.IsNotExist(err) {
				t.Fatalf("the record is still there: %v", err)
			}
			if restored, err := restoreLocalnet(sysctl, state); err != nil || restored {
				t.Fatalf("a second restore = %v, %v; want nothing done", restored, err)
			}
		})
	}
	t.Run("a corrupt record is an error and changes nothing", func(t *testing.T) {
		dir := t.TempDir()
		sysctl := filepath.Join(dir, "route_localnet")
		if err := os.WriteFile(sysctl, []byte("1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, localnetStateFile), []byte("yes"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := restoreLocalnet(sysctl, dir); err == nil || !strings.Contains(err.Error(), `"yes"`) {
			t.Fatalf("restore = %v, want an error naming the bad value", err)
		}
		if got, _ := os.ReadFile(sysctl); string(got) != "1\n" {
			t.Fatalf("sysctl changed to %q", got)
		}
	})
}
