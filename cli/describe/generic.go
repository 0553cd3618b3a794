package describe

import (
	"bytes"
	"io"
	"strings"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/manifest"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Generic describes a kind without a describer of its own: its metadata
// as kubectl shows it, then its spec, status and other fields as YAML
// (indented), then its events.
func Generic(out io.Writer, obj proto.Message, meta *metav1.ObjectMeta, events []*corev1.Event, now time.Time) error {
	w := newWriter(out)
	w.line(0, "Name:\t%s", meta.GetName())
	if meta.GetNamespace() != "" {
		w.line(0, "Namespace:\t%s", meta.GetNamespace())
	}
	w.mapLines(0, "Labels", meta.GetLabels())
	w.mapLines(0, "Annotations", meta.GetAnnotations())
	w.line(0, "CreationTimestamp:\t%s", when(meta.GetCreationTimestamp()))
	if err := w.flush(); err != nil {
		return err
	}
	y, err := manifest.EncodeYAML(obj)
	if err != nil {
		return err
	}
	// Everything but apiVersion, kind and metadata, in YAML's own layout.
	var body bytes.Buffer
	skip := false
	for _, l := range strings.SplitAfter(string(y), "\n") {
		top := l != "" && l[0] != ' ' && l[0] != '-'
		if top {
			skip = strings.HasPrefix(l, "apiVersion:") || strings.HasPrefix(l, "kind:") || strings.HasPrefix(l, "metadata:")
		}
		if !skip && l != "" {
			body.WriteString(l)
		}
	}
	for _, l := range strings.SplitAfter(body.String(), "\n") {
		if l == "" {
			continue
		}
		if l[0] != ' ' && l[0] != '-' {
			l = strings.ToUpper(l[:1]) + l[1:]
		}
		if _, err := io.WriteString(out, l); err != nil {
			return err
		}
	}
	w = newWriter(out)
	w.events(events, now)
	return w.flush()
}

func durationString(d time.Duration) string { return duration.HumanDuration(d) }
