// Package printer writes objects the way kubectl shows them: tables with
// kubectl's columns per kind (wide, with labels, across namespaces), names
// (kind/name), and JSON or YAML documents.
package printer

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Options shape a table.
type Options struct {
	Wide          bool
	ShowLabels    bool
	AllNamespaces bool // adds a NAMESPACE column first
	NoHeaders     bool
	// WithKind names objects kind/name, as kubectl does when a get lists
	// several kinds.
	WithKind bool
	// Now is the time ages are measured from; zero means time.Now().
	Now time.Time
}

// NewWriter returns the column writer kubectl uses: columns padded by three
// spaces. Flush it after the rows.
func NewWriter(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0) }

// Table prints objs of kind k as a table to w.
func Table(w io.Writer, k scheme.Kind, objs []proto.Message, o Options) error {
	tw := NewWriter(w)
	if !o.NoHeaders {
		printRow(tw, Header(k, o))
	}
	for _, obj := range objs {
		printRow(tw, Row(k, obj, o))
	}
	return tw.Flush()
}

// Header is the column titles of kind k under o.
func Header(k scheme.Kind, o Options) []string {
	c := columnsOf(k)
	h := append([]string{}, c.header...)
	if o.Wide {
		h = append(h, c.wide...)
	}
	if o.AllNamespaces && k.Namespaced {
		h = append([]string{"NAMESPACE"}, h...)
	}
	if o.ShowLabels {
		h = append(h, "LABELS")
	}
	return h
}

// Row is the cells of one object under o.
func Row(k scheme.Kind, obj proto.Message, o Options) []string {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	c := columnsOf(k)
	cells, wide := c.row(obj, now)
	if o.Wide {
		cells = append(cells, wide...)
	}
	meta := metaOf(obj)
	if o.WithKind {
		for i, h := range c.header {
			if h == "NAME" {
				cells[i] = Resource(k) + "/" + cells[i]
			}
		}
	}
	if o.AllNamespaces && k.Namespaced {
		cells = append([]string{meta.GetNamespace()}, cells...)
	}
	if o.ShowLabels {
		cells = append(cells, Labels(meta.GetLabels()))
	}
	return cells
}

// PrintRow writes one row to a table writer (for watches, which print rows
// as they come).
func PrintRow(tw *tabwriter.Writer, cells []string) { printRow(tw, cells) }

func printRow(tw *tabwriter.Writer, cells []string) {
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

// Labels writes labels as k=v,k=v sorted by key, or <none>.
func Labels(l map[string]string) string {
	if len(l) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ",")
}

// Age is kubectl's age of t at now (5s, 3m2s, 4h, 12d), <unknown> when unset.
func Age(t *timestamppb.Timestamp, now time.Time) string {
	if t == nil {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.AsTime()))
}

func metaOf(obj proto.Message) *metav1.ObjectMeta {
	r := obj.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("metadata")
	if fd == nil || !r.Has(fd) {
		return nil
	}
	m, _ := r.Get(fd).Message().Interface().(*metav1.ObjectMeta)
	return m
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
