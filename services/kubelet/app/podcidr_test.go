package app

import (
	"strings"
	"testing"

	"go.uber.org/zap"
)

func TestChoosePodCIDR(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct{ fromNode, want, err string }{
		{"", "10.244.0.0/24", ""},
		{"10.244.7.0/24", "10.244.7.0/24", ""},
		{"10.99.0.0/24", "", "not inside --cluster-cidr"},
		{"garbage", "", "garbage"},
	} {
		got, err := choosePodCIDR(tc.fromNode, cfg, zap.NewNop())
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("choosePodCIDR(%q) = %q, %v; want %q, error containing %q", tc.fromNode, got, err, tc.want, tc.err)
		}
	}
}
