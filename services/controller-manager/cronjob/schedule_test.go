package cronjob

import (
	"testing"
	"time"

	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func cronJob(schedule string, created string, last string, tz *string, deadline *int32) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		Metadata: &metav1.ObjectMeta{Name: "cj", CreationTimestamp: timestamppb.New(at(created))},
		Spec:     &batchv1.CronJobSpec{Schedule: schedule, TimeZone: tz, StartingDeadlineSeconds: deadline},
		Status:   &batchv1.CronJobStatus{},
	}
	if last != "" {
		cj.Status.LastScheduleTime = timestamppb.New(at(last))
	}
	return cj
}

// TestDecide walks a fake clock over schedules: the latest due time runs,
// nothing runs before the first one, startingDeadlineSeconds skips a
// late start, a time zone shifts the hours, a long absence runs once.
func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cj        *batchv1.CronJob
		now       string
		run, next string
		many      bool
	}{
		{"not yet due", cronJob("*/5 * * * *", "2026-01-01T10:01:00Z", "", nil, nil), "2026-01-01T10:04:59Z", "", "2026-01-01T10:05:00Z", false},
		{"due on the minute", cronJob("*/5 * * * *", "2026-01-01T10:01:00Z", "", nil, nil), "2026-01-01T10:05:00Z", "2026-01-01T10:05:00Z", "2026-01-01T10:10:00Z", false},
		{"after the last run", cronJob("*/5 * * * *", "2026-01-01T10:01:00Z", "2026-01-01T10:05:00Z", nil, nil), "2026-01-01T10:07:00Z", "", "2026-01-01T10:10:00Z", false},
		{"two missed: the latest runs", cronJob("*/5 * * * *", "2026-01-01T10:01:00Z", "2026-01-01T10:05:00Z", nil, nil), "2026-01-01T10:16:00Z", "2026-01-01T10:15:00Z", "2026-01-01T10:20:00Z", false},
		{"hourly", cronJob("@hourly", "2026-01-01T10:01:00Z", "", nil, nil), "2026-01-01T11:00:30Z", "2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z", false},
		{"starting deadline passed", cronJob("0 * * * *", "2026-01-01T10:01:00Z", "", nil, proto.Int32(60)), "2026-01-01T11:02:00Z", "", "2026-01-01T12:00:00Z", false},
		{"within the starting deadline", cronJob("0 * * * *", "2026-01-01T10:01:00Z", "", nil, proto.Int32(300)), "2026-01-01T11:02:00Z", "2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z", false},
		{"time zone", cronJob("0 9 * * *", "2026-01-01T00:00:00Z", "", proto.String("Europe/Kyiv"), nil), "2026-01-01T07:00:00Z", "2026-01-01T07:00:00Z", "2026-01-02T07:00:00Z", false},
		{"long absence", cronJob("* * * * *", "2026-01-01T00:00:00Z", "", nil, nil), "2026-01-03T00:00:30Z", "2026-01-03T00:00:00Z", "2026-01-03T00:01:00Z", true},
		{"long absence, daily: the latest day runs", cronJob("@daily", "2026-01-01T00:00:00Z", "", nil, nil), "2026-05-01T05:00:00Z", "2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", true},
		{"long absence, weekdays across a weekend", cronJob("0 9 * * 1-5", "2025-06-01T00:00:00Z", "", nil, nil), "2026-01-04T12:00:00Z", "2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z", true},
		{"long absence, monthly", cronJob("@monthly", "2010-01-01T00:00:00Z", "", nil, nil), "2026-03-15T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sched, loc, err := Schedule(tc.cj)
			if err != nil {
				t.Fatal(err)
			}
			p := decide(tc.cj, sched, loc, at(tc.now))
			var run time.Time
			if tc.run != "" {
				run = at(tc.run)
			}
			if !p.run.Equal(run) || !p.next.Equal(at(tc.next)) || p.many != tc.many {
				t.Fatalf("decide at %s = run %v next %v many %v; want run %v next %s many %v",
					tc.now, p.run, p.next, p.many, run, tc.next, tc.many)
			}
		})
	}
}

func TestScheduleRefusesGarbage(t *testing.T) {
	for _, s := range []string{"61 * * * *", "* * *", "@fortnightly"} {
		if _, _, err := Schedule(cronJob(s, "2026-01-01T00:00:00Z", "", nil, nil)); err == nil {
			t.Errorf("schedule %q parsed", s)
		}
	}
	if _, _, err := Schedule(cronJob("@hourly", "2026-01-01T00:00:00Z", "", proto.String("Mars/Olympus"), nil)); err == nil {
		t.Error("time zone Mars/Olympus loaded")
	}
}

// TestOlder: Jobs made within one second keep their schedule order.
func TestOlder(t *testing.T) {
	created := timestamppb.New(at("2026-01-01T05:00:10Z"))
	job := func(name, scheduled string) *batchv1.Job {
		j := &batchv1.Job{Metadata: &metav1.ObjectMeta{Name: name, CreationTimestamp: created}}
		if scheduled != "" {
			j.Metadata.Annotations = map[string]string{"batch.kubernetes.io/cronjob-scheduled-timestamp": scheduled}
		}
		return j
	}
	four, five := job("tick-b", "2026-01-01T04:00:00Z"), job("tick-a", "2026-01-01T05:00:00Z")
	if !older(four, five) || older(five, four) {
		t.Fatal("the 04:00 job does not come before the 05:00 one created in the same second")
	}
	manual := job("tick-manual", "")
	if !older(four, manual) || older(manual, four) {
		t.Fatal("a manual job created at 05:00:10 does not come after the 04:00 job")
	}
}

func timestampAt(s string) *timestamppb.Timestamp { return timestamppb.New(at(s)) }
