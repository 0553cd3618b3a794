package describe

import (
	"io"
	"sort"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// Secret describes a secret without showing its values: each key and its
// size, as kubectl does.
func Secret(out io.Writer, s *corev1.Secret, events []*corev1.Event, now time.Time) error {
	w := newWriter(out)
	m := s.GetMetadata()
	w.line(0, "Name:\t%s", m.GetName())
	w.line(0, "Namespace:\t%s", m.GetNamespace())
	w.mapLines(0, "Labels", m.GetLabels())
	w.mapLines(0, "Annotations", m.GetAnnotations())
	w.line(0, "")
	w.line(0, "Type:\t%s", orDefault(s.GetType(), "Opaque"))
	w.line(0, "")
	w.line(0, "Data")
	w.line(0, "====")
	keys := make([]string, 0, len(s.GetData()))
	for k := range s.GetData() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.line(0, "%s:\t%d bytes", k, len(s.GetData()[k]))
	}
	if len(events) > 0 {
		w.events(events, now)
	}
	return w.flush()
}
