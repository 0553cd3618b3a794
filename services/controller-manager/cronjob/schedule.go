package cronjob

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
)

// maxMissed bounds how many missed schedule times are walked; past it
// only the latest one runs (and a warning says the controller was away).
const maxMissed = 100

// Schedule parses a CronJob's schedule (five fields or @hourly style) in
// its time zone (UTC when unset).
func Schedule(cj *batchv1.CronJob) (cron.Schedule, *time.Location, error) {
	s := cj.GetSpec()
	sched, err := cron.ParseStandard(s.GetSchedule())
	if err != nil {
		return nil, nil, fmt.Errorf("schedule %q: %w", s.GetSchedule(), err)
	}
	loc := time.UTC
	if s.TimeZone != nil {
		if loc, err = time.LoadLocation(s.GetTimeZone()); err != nil {
			return nil, nil, fmt.Errorf("time zone %q: %w", s.GetTimeZone(), err)
		}
	}
	return sched, loc, nil
}

// plan is what a sync of a CronJob decides at now.
type plan struct {
	// run is the schedule time to start a job for, or zero.
	run time.Time
	// many: more than maxMissed times were missed.
	many bool
	// next is the schedule time after now.
	next time.Time
}

// decide finds the latest schedule time in (earliest, now], where
// earliest is the last schedule time or the CronJob's creation, moved up
// to now - startingDeadlineSeconds (a time missed by more than that is
// not started late), and the next one after now.
func decide(cj *batchv1.CronJob, sched cron.Schedule, loc *time.Location, now time.Time) plan {
	earliest := cj.GetMetadata().GetCreationTimestamp().AsTime()
	if t := cj.GetStatus().GetLastScheduleTime(); t != nil {
		earliest = t.AsTime()
	}
	s := cj.GetSpec()
	if s.StartingDeadlineSeconds != nil {
		if floor := now.Add(-time.Duration(s.GetStartingDeadlineSeconds()) * time.Second); floor.After(earliest) {
			earliest = floor
		}
	}
	var p plan
	n := 0
	for t := sched.Next(earliest.In(loc)); !t.After(now); t = sched.Next(t) {
		p.run = t
		if n++; n > maxMissed {
			p.many = true
			p.run = latest(sched, loc, earliest, now, sched.Next(t).Sub(t))
			break
		}
	}
	p.next = sched.Next(now.In(loc))
	return p
}

// latest is the last schedule time in (earliest, now], one known to
// exist, found without walking every time of a long absence: it walks
// from now - maxMissed periods (period: the gap between two consecutive
// times), widening the window while it holds none (a schedule's gaps can
// differ: weekends, month ends).
func latest(sched cron.Schedule, loc *time.Location, earliest, now time.Time, period time.Duration) time.Time {
	window := time.Duration(maxMissed) * max(period, time.Minute)
	for {
		from := now.Add(-window)
		if from.Before(earliest) {
			from = earliest
		}
		var run time.Time
		for u := sched.Next(from.In(loc)); !u.After(now); u = sched.Next(u) {
			run = u
		}
		if !run.IsZero() || !from.After(earliest) {
			return run
		}
		window *= 2
	}
}
