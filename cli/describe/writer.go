// Package describe writes the detailed, human view of one object, as
// kubectl describe does: aligned "Key:  value" lines in nested sections,
// the pod's containers and conditions, the node's capacity and the
// resources its pods request, and the object's Events at the bottom. It
// reads the objects it is given and does no I/O of its own.
package describe

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/util/duration"
)

// TimeFormat is how describe prints times (kubectl's RFC 1123 with a numeric zone).
const TimeFormat = time.RFC1123Z

// writer indents lines by level and aligns their tab-separated cells.
type writer struct {
	tw *tabwriter.Writer
}

func newWriter(w io.Writer) *writer { return &writer{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)} }

// line writes format at indentation level (two spaces per level).
func (w *writer) line(level int, format string, args ...any) {
	fmt.Fprintf(w.tw, strings.Repeat("  ", level)+format+"\n", args...)
}

func (w *writer) flush() error { return w.tw.Flush() }

// mapLines writes a map as "Key:\tk=v" then one k=v per line, aligned
// under the first; <none> when empty.
func (w *writer) mapLines(level int, key string, m map[string]string) {
	if len(m) == 0 {
		w.line(level, "%s:\t<none>", key)
		return
	}
	keys := sortedKeys(m)
	for i, k := range keys {
		if i == 0 {
			w.line(level, "%s:\t%s=%s", key, k, m[k])
		} else {
			w.line(level, "\t%s=%s", k, m[k])
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func when(t *timestamppb.Timestamp) string {
	if t == nil {
		return "<unset>"
	}
	return t.AsTime().Local().Format(TimeFormat)
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// events writes the Events section: newest last, repeats counted.
func (w *writer) events(events []*corev1.Event, now time.Time) {
	if len(events) == 0 {
		w.line(0, "Events:\t<none>")
		return
	}
	sort.SliceStable(events, func(i, j int) bool { return lastSeen(events[i]).Before(lastSeen(events[j])) })
	w.line(0, "Events:")
	w.line(1, "Type\tReason\tAge\tFrom\tMessage")
	w.line(1, "----\t------\t----\t----\t-------")
	for _, e := range events {
		age := duration.HumanDuration(now.Sub(lastSeen(e)))
		if e.GetCount() > 1 && e.GetFirstTimestamp() != nil {
			age = fmt.Sprintf("%s (x%d over %s)", age, e.GetCount(), duration.HumanDuration(now.Sub(e.GetFirstTimestamp().AsTime())))
		}
		from := e.GetSource().GetComponent()
		if from == "" {
			from = e.GetReportingComponent()
		}
		w.line(1, "%s\t%s\t%s\t%s\t%s", e.GetType(), e.GetReason(), age, from, strings.TrimSpace(e.GetMessage()))
	}
}

func lastSeen(e *corev1.Event) time.Time {
	for _, t := range []*timestamppb.Timestamp{e.GetLastTimestamp(), e.GetEventTime(), e.GetFirstTimestamp(), e.GetMetadata().GetCreationTimestamp()} {
		if t != nil {
			return t.AsTime()
		}
	}
	return time.Time{}
}
