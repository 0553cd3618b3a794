package job

import (
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestBackoffLeft(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	failedAt := func(ago time.Duration) *corev1.Pod {
		return &corev1.Pod{Status: &corev1.PodStatus{Phase: "Failed", ContainerStatuses: []*corev1.ContainerStatus{{
			State: &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: timestamppb.New(now.Add(-ago))}},
		}}}}
	}
	for _, tc := range []struct {
		name     string
		failures int32
		pods     []*corev1.Pod
		want     time.Duration
	}{
		{"no failures", 0, nil, 0},
		{"first failure 3 s ago", 1, []*corev1.Pod{failedAt(3 * time.Second)}, 7 * time.Second},
		{"third failure doubles twice", 3, []*corev1.Pod{failedAt(time.Minute), failedAt(5 * time.Second)}, 35 * time.Second},
		{"waited enough", 1, []*corev1.Pod{failedAt(time.Minute)}, 0},
		{"capped at 6 minutes", 20, []*corev1.Pod{failedAt(0)}, 6 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := backoffLeft(DefaultBackoff, tc.failures, tc.pods, now); got != tc.want {
				t.Fatalf("backoffLeft = %v, want %v", got, tc.want)
			}
		})
	}
}
