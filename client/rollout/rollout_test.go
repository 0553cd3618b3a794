package rollout

import (
	"errors"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

func TestPick(t *testing.T) {
	revs := []Revision{{Number: 1, ReplicaSet: "a"}, {Number: 2, ReplicaSet: "b"}, {Number: 4, ReplicaSet: "c"}}
	at := func(rev string) *appsv1.Deployment {
		return &appsv1.Deployment{Metadata: &metav1.ObjectMeta{Annotations: map[string]string{RevisionAnnotation: rev}}}
	}
	for _, tc := range []struct {
		name    string
		current string
		want    int64
		pick    int64
		err     error
	}{
		{"previous of 4", "4", 0, 2, nil},
		{"previous of 2", "2", 0, 1, nil},
		{"nothing before 1", "1", 0, 0, ErrRevisionNotFound},
		{"explicit", "4", 1, 1, nil},
		{"missing", "4", 3, 0, ErrRevisionNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pick(revs, at(tc.current), tc.want)
			if !errors.Is(err, tc.err) || got.Number != tc.pick {
				t.Fatalf("pick(current %s, to %d) = %d, %v; want %d, %v", tc.current, tc.want, got.Number, err, tc.pick, tc.err)
			}
		})
	}
}
