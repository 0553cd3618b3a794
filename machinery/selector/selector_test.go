package selector

import (
	"errors"
	"strings"
	"testing"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func TestParse(t *testing.T) {
	prodWeb := labels.Set{"env": "production", "tier": "web"}
	dev := labels.Set{"env": "development"}
	canary := labels.Set{"env": "production", "canary": "true"}
	none := labels.Set{}
	tests := []struct {
		name    string
		in      string
		match   []labels.Set
		nomatch []labels.Set
		wantErr string
	}{
		{name: "empty selects everything", in: "", match: []labels.Set{prodWeb, dev, none}},
		{name: "equals", in: "env=production", match: []labels.Set{prodWeb, canary}, nomatch: []labels.Set{dev, none}},
		{name: "double equals", in: "env==development", match: []labels.Set{dev}, nomatch: []labels.Set{prodWeb}},
		{name: "not equals matches missing key", in: "env!=production", match: []labels.Set{dev, none}, nomatch: []labels.Set{prodWeb}},
		{name: "in", in: "env in (production, development)", match: []labels.Set{prodWeb, dev}, nomatch: []labels.Set{none}},
		{name: "notin", in: "env notin (production)", match: []labels.Set{dev, none}, nomatch: []labels.Set{prodWeb}},
		{name: "exists", in: "tier", match: []labels.Set{prodWeb}, nomatch: []labels.Set{dev}},
		{name: "does not exist", in: "!tier", match: []labels.Set{dev, none}, nomatch: []labels.Set{prodWeb}},
		{name: "and of terms", in: "env in (production, development),!canary", match: []labels.Set{prodWeb, dev}, nomatch: []labels.Set{canary, none}},
		{name: "seed 004 owner", in: "owner=ipeacocks", match: []labels.Set{{"owner": "ipeacocks"}}, nomatch: []labels.Set{dev}},
		{name: "unclosed set", in: "env in (a", wantErr: "expected: ',' or ')'"},
		{name: "missing operator", in: "env production", wantErr: "found 'production', expected: in, notin"},
		{name: "in without parenthesis", in: "env in a", wantErr: "expected: '('"},
		{name: "bad key", in: "-bad=x", wantErr: `"-bad"`},
		{name: "bad value", in: "env=a=b", wantErr: "found '='"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.in) {
					t.Fatalf("Parse(%q) error = %v, want one naming %q and the selector", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			for _, l := range tt.match {
				if !sel.Matches(l) {
					t.Errorf("%q does not match %v", tt.in, l)
				}
			}
			for _, l := range tt.nomatch {
				if sel.Matches(l) {
					t.Errorf("%q matches %v", tt.in, l)
				}
			}
		})
	}
}

func req(key, op string, values ...string) *metav1.LabelSelectorRequirement {
	return &metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
}

func TestFromLabelSelector(t *testing.T) {
	tests := []struct {
		name    string
		in      *metav1.LabelSelector
		want    string // the String() of the result
		match   []labels.Set
		nomatch []labels.Set
		wantErr string
	}{
		{name: "nil selects nothing", in: nil, nomatch: []labels.Set{{}, {"app": "sise"}}},
		{name: "empty selects everything", in: &metav1.LabelSelector{}, match: []labels.Set{{}, {"app": "sise"}}},
		{
			name: "matchLabels", in: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "sise", "tier": "web"}},
			want:  "app=sise,tier=web",
			match: []labels.Set{{"app": "sise", "tier": "web", "x": "y"}}, nomatch: []labels.Set{{"app": "sise"}},
		},
		{
			name: "all operators",
			in: &metav1.LabelSelector{
				MatchLabels: map[string]string{"app": "sise"},
				MatchExpressions: []*metav1.LabelSelectorRequirement{
					req("env", OpIn, "production", "development"),
					req("track", OpNotIn, "canary"),
					req("tier", OpExists),
					req("debug", OpDoesNotExist),
				},
			},
			want:    "app=sise,!debug,env in (development,production),tier,track notin (canary)",
			match:   []labels.Set{{"app": "sise", "env": "production", "tier": "web"}},
			nomatch: []labels.Set{{"app": "sise", "env": "production", "tier": "web", "debug": "1"}, {"app": "sise", "env": "qa", "tier": "web"}, {"app": "sise", "env": "production", "tier": "web", "track": "canary"}},
		},
		{name: "unknown operator", in: &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{req("a", "Equals", "b")}}, wantErr: `matchExpressions[0]: "Equals" is not a valid label selector operator`},
		{name: "In without values", in: &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{req("a", OpIn)}}, wantErr: "matchExpressions[0]: values"},
		{name: "Exists with values", in: &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{req("a", OpExists, "b")}}, wantErr: "values set must be empty"},
		{name: "bad matchLabels value", in: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b c"}}, wantErr: "matchLabels[a]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := FromLabelSelector(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			for _, l := range tt.match {
				if !sel.Matches(l) {
					t.Errorf("does not match %v", l)
				}
			}
			for _, l := range tt.nomatch {
				if sel.Matches(l) {
					t.Errorf("matches %v", l)
				}
			}
		})
	}
}

func TestToStringRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   *metav1.LabelSelector
		want string
	}{
		{"empty", &metav1.LabelSelector{}, ""},
		{"labels", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "replicaset-x"}}, "app=replicaset-x"},
		{"expressions", &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{req("env", OpIn, "production", "development"), req("canary", OpDoesNotExist)}}, "!canary,env in (development,production)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ToString(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if s != tt.want {
				t.Fatalf("ToString = %q, want %q", s, tt.want)
			}
			// The string form parses back to an equivalent selector.
			back, err := Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			orig, _ := FromLabelSelector(tt.in)
			if back.String() != orig.String() {
				t.Errorf("round trip: %q != %q", back.String(), orig.String())
			}
		})
	}
	t.Run("nil", func(t *testing.T) {
		if _, err := ToString(nil); !errors.Is(err, ErrNilSelector) {
			t.Fatalf("ToString(nil) error = %v, want ErrNilSelector", err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		if _, err := ToString(&metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{req("a", "Bogus")}}); err == nil {
			t.Fatal("want error")
		}
	})
}
