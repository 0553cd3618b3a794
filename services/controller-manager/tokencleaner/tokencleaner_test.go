package tokencleaner

import (
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

func TestExpiration(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		data map[string][]byte
		want time.Time
		ok   bool
	}{
		{"set", map[string][]byte{"expiration": []byte("2026-01-01T00:00:00Z")}, at, true},
		{"none", map[string][]byte{}, time.Time{}, false},
		{"unparseable", map[string][]byte{"expiration": []byte("tomorrow")}, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Expiration(&corev1.Secret{Data: tt.data})
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Fatalf("Expiration = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
