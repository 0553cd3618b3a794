package app

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
)

func TestAPIAudiencesFlag(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     []string
		parseErr string
		validErr string
	}{
		{"default", nil, []string{authn.DefaultAPIAudience}, "", ""},
		{"two", []string{"--api-audiences", "https://a.example, api"}, []string{"https://a.example", "api"}, "", ""},
		{"empty", []string{"--api-audiences="}, nil, "-api-audiences", ""},
		{"with --insecure", []string{"--insecure", "--api-audiences", "api"}, []string{"api"}, "", "--insecure cannot be combined with --api-audiences"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			cfg.AddFlags(fs)
			err := fs.Parse(tt.args)
			if tt.parseErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.parseErr) || !strings.Contains(err.Error(), "at least one audience") {
					t.Fatalf("Parse = %v, want an error naming %s", err, tt.parseErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.Security.APIAudiences, tt.want) {
				t.Fatalf("APIAudiences = %q, want %q", cfg.Security.APIAudiences, tt.want)
			}
			if err := cfg.Validate(); tt.validErr != "" && (err == nil || !strings.Contains(err.Error(), tt.validErr)) {
				t.Fatalf("Validate() = %v, want %q", err, tt.validErr)
			} else if tt.validErr == "" && err != nil {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
}
