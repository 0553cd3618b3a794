package command

import (
	"testing"
	"time"
)

// TestLifeText: the join line's token lasts --token-ttl when this start
// made it, what it has left when a restart reused it, or forever.
func TestLifeText(t *testing.T) {
	started := time.Date(2026, 11, 25, 10, 0, 0, 500e6, time.UTC)
	for _, tt := range []struct {
		name             string
		created, expires time.Time
		want             string
	}{
		{"made by this start", started.Add(time.Second), started.Add(3 * time.Hour), "3h0m0s"},
		{"made in the same second", started.Truncate(time.Second), started.Add(3 * time.Hour), "3h0m0s"},
		{"reused", started.Add(-time.Hour), started.Add(2 * time.Hour), "1h59m59s, reused from the last start"},
		{"never expires", started.Add(-time.Hour), time.Time{}, "forever"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := lifeText(3*time.Hour, tt.created, tt.expires, started, started.Add(time.Second)); got != tt.want {
				t.Fatalf("lifeText = %q, want %q", got, tt.want)
			}
		})
	}
}
