package scheme

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		in, wantKind string
		ok           bool
	}{
		{"po", "Pod", true},
		{"pods", "Pod", true},
		{"Pod", "Pod", true},
		{"deploy", "Deployment", true},
		{"deployments.apps", "Deployment", true},
		{"deployments.batch", "", false},
		{"rs", "ReplicaSet", true},
		{"svc", "Service", true},
		{"ep", "Endpoints", true},
		{"leases", "Lease", true},
		{"widgets", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			k, ok := Lookup(tt.in)
			if ok != tt.ok || k.Kind != tt.wantKind {
				t.Fatalf("Lookup(%q) = %q, %v; want %q, %v", tt.in, k.Kind, ok, tt.wantKind, tt.ok)
			}
		})
	}
}

func TestTableIsConsistent(t *testing.T) {
	for _, k := range All() {
		if got, ok := ByKind(k.APIVersion(), k.Kind); !ok || got.Resource != k.Resource {
			t.Errorf("ByKind(%s, %s) does not find %s", k.APIVersion(), k.Kind, k.Resource)
		}
		if got, ok := ForMessage(k.New()); !ok || got.Kind != k.Kind {
			t.Errorf("ForMessage(%s) = %v", k.Kind, got.Kind)
		}
		if string(k.MessageName().Name()) != k.Kind {
			t.Errorf("message of %s is %s", k.Kind, k.MessageName())
		}
	}
	if k, _ := ForMessage(&corev1.PodList{}); k.Kind != "Pod" {
		t.Errorf("ForMessage(PodList) = %q", k.Kind)
	}
}
