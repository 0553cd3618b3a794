package job

import (
	"testing"

	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	"google.golang.org/protobuf/proto"
)

func TestWantedAndComplete(t *testing.T) {
	for _, tc := range []struct {
		name     string
		spec     *batchv1.JobSpec
		n        counts
		want     int32
		complete bool
	}{
		{"start: parallelism bounds", &batchv1.JobSpec{Completions: proto.Int32(3), Parallelism: proto.Int32(2)}, counts{}, 2, false},
		{"last one: completions bound", &batchv1.JobSpec{Completions: proto.Int32(3), Parallelism: proto.Int32(2)}, counts{succeeded: 2}, 1, false},
		{"done", &batchv1.JobSpec{Completions: proto.Int32(3), Parallelism: proto.Int32(2)}, counts{succeeded: 3}, 0, true},
		{"suspended", &batchv1.JobSpec{Completions: proto.Int32(3), Parallelism: proto.Int32(2), Suspend: proto.Bool(true)}, counts{}, 0, false},
		{"work queue running", &batchv1.JobSpec{Parallelism: proto.Int32(3)}, counts{active: 3}, 3, false},
		{"work queue: one succeeded, others running", &batchv1.JobSpec{Parallelism: proto.Int32(3)}, counts{succeeded: 1, active: 2}, 0, false},
		{"work queue done", &batchv1.JobSpec{Parallelism: proto.Int32(3)}, counts{succeeded: 1}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wanted(tc.spec, tc.n); got != tc.want {
				t.Errorf("wanted = %d, want %d", got, tc.want)
			}
			if got := complete(tc.spec, tc.n); got != tc.complete {
				t.Errorf("complete = %v, want %v", got, tc.complete)
			}
		})
	}
}
