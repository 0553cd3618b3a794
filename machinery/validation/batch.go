package validation

import (
	"strings"
	"time"
	_ "time/tzdata" // time zones must resolve the same on every machine

	"github.com/robfig/cron/v3"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

// maxCronJobName leaves room for the suffix of the jobs a cron job creates.
const maxCronJobName = 52

func validateJob(j *batchv1.Job) List {
	errs := validateMeta(j.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
	if j.GetSpec() == nil {
		return append(errs, required("spec", ""))
	}
	return append(errs, jobSpec("spec", j.GetSpec())...)
}

func jobSpec(p path, s *batchv1.JobSpec) List {
	var errs List
	errs = append(errs, optNonNegative(p.child("parallelism"), s.Parallelism)...)
	errs = append(errs, optNonNegative(p.child("completions"), s.Completions)...)
	errs = append(errs, optNonNegative(p.child("backoffLimit"), s.BackoffLimit)...)
	errs = append(errs, optNonNegative(p.child("ttlSecondsAfterFinished"), s.TtlSecondsAfterFinished)...)
	errs = append(errs, optPositive(p.child("activeDeadlineSeconds"), s.ActiveDeadlineSeconds)...)
	if s.CompletionMode != nil {
		if s.GetCompletionMode() == "" {
			errs = append(errs, notSupported(p.child("completionMode"), "", "NonIndexed", "Indexed"))
		}
		errs = append(errs, oneOf(p.child("completionMode"), s.GetCompletionMode(), "NonIndexed", "Indexed")...)
		if s.GetCompletionMode() == "Indexed" && s.Completions == nil {
			errs = append(errs, required(p.child("completions"), "when completion mode is Indexed"))
		}
	}
	return append(errs, selectedTemplate(p, s.GetSelector(), s.GetTemplate(), s.GetManualSelector(), "OnFailure", "Never")...)
}

func validateCronJob(cj *batchv1.CronJob) List {
	errs := validateMeta(cj.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
	if n := cj.GetMetadata().GetName(); len(n) > maxCronJobName {
		errs = append(errs, invalid("metadata.name", n, "must be no more than 52 characters"))
	}
	s, p := cj.GetSpec(), path("spec")
	if s == nil {
		return append(errs, required(p, ""))
	}
	errs = append(errs, schedule(p.child("schedule"), s.GetSchedule())...)
	if s.TimeZone != nil {
		errs = append(errs, timeZone(p.child("timeZone"), s.GetTimeZone())...)
	}
	errs = append(errs, oneOf(p.child("concurrencyPolicy"), s.GetConcurrencyPolicy(), "Allow", "Forbid", "Replace")...)
	errs = append(errs, optNonNegative(p.child("startingDeadlineSeconds"), s.StartingDeadlineSeconds)...)
	errs = append(errs, optNonNegative(p.child("successfulJobsHistoryLimit"), s.SuccessfulJobsHistoryLimit)...)
	errs = append(errs, optNonNegative(p.child("failedJobsHistoryLimit"), s.FailedJobsHistoryLimit)...)
	jt, jp := s.GetJobTemplate(), p.child("jobTemplate")
	switch {
	case jt == nil:
		errs = append(errs, required(jp, ""))
	case jt.GetSpec() == nil:
		errs = append(errs, templateMeta(jp.child("metadata"), jt.GetMetadata())...)
		errs = append(errs, required(jp.child("spec"), ""))
	default:
		errs = append(errs, templateMeta(jp.child("metadata"), jt.GetMetadata())...)
		errs = append(errs, jobSpec(jp.child("spec"), jt.GetSpec())...)
	}
	return errs
}

// schedule checks a standard five-field cron expression or a descriptor
// such as @hourly.
func schedule(p path, s string) List {
	switch {
	case strings.TrimSpace(s) == "":
		return List{required(p, "")}
	case strings.Contains(s, "TZ"):
		return List{invalid(p, s, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")}
	}
	if _, err := cron.ParseStandard(s); err != nil {
		return List{invalid(p, s, err.Error())}
	}
	return nil
}

func timeZone(p path, tz string) List {
	switch {
	case tz == "":
		return List{invalid(p, tz, "timeZone must be nil or non-empty string")}
	case strings.EqualFold(tz, "Local"):
		return List{invalid(p, tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")}
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return List{invalid(p, tz, "unknown time zone "+tz)}
	}
	return nil
}

// jobUpdate keeps a job's selector, template and completions.
func jobUpdate(n, o *batchv1.Job) List {
	ns, os := n.GetSpec(), o.GetSpec()
	errs := immutable("spec.selector", ns.GetSelector(), os.GetSelector())
	errs = append(errs, immutable("spec.template", ns.GetTemplate(), os.GetTemplate())...)
	if ns == nil || os == nil {
		return errs
	}
	if (ns.Completions == nil) != (os.Completions == nil) || ns.GetCompletions() != os.GetCompletions() {
		errs = append(errs, invalid("spec.completions", ns.GetCompletions(), "field is immutable"))
	}
	return errs
}
