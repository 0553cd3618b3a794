package quantity

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in        string
		milli     int64
		value     int64
		wantError bool
	}{
		{"500m", 500, 1, false},
		{"1", 1000, 1, false},
		{"1.5", 1500, 2, false},
		{"64Mi", 64 << 20 * 1000, 64 << 20, false},
		{"1Gi", 1 << 30 * 1000, 1 << 30, false},
		{"1e3", 1000000, 1000, false},
		{"", 0, 0, true},
		{"64MB", 0, 0, true},
		{"abc", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := MilliValue(tt.in)
			if (err != nil) != tt.wantError {
				t.Fatalf("MilliValue(%q) error = %v", tt.in, err)
			}
			if err != nil {
				return
			}
			v, _ := Value(tt.in)
			if m != tt.milli || v != tt.value {
				t.Fatalf("%q: milli %d value %d; want %d %d", tt.in, m, v, tt.milli, tt.value)
			}
		})
	}
}
