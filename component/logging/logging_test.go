package logging

import (
	"flag"
	"testing"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"defaults", nil, false},
		{"console debug", []string{"--log-level=debug", "--log-format=console"}, false},
		{"bad level", []string{"--log-level=loud"}, true},
		{"bad format", []string{"--log-format=xml"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o Options
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			log, err := o.New("test")
			if (err != nil) != tt.wantErr {
				t.Fatalf("New() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && log == nil {
				t.Fatal("New() returned a nil logger")
			}
		})
	}
}
