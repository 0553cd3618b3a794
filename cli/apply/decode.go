package apply

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tugboat-sh/tugboat/cli/resource"
	"github.com/tugboat-sh/tugboat/machinery/defaults"
	"github.com/tugboat-sh/tugboat/machinery/manifest"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"github.com/tugboat-sh/tugboat/machinery/validation"
	"google.golang.org/protobuf/proto"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Object is one decoded object and where it came from.
type Object struct {
	Source string
	// Doc is the object's document in its source, from 1.
	Doc  int
	Kind scheme.Kind
	Obj  proto.Message
}

// nbsp is U+00A0, the non-breaking space web pages put in copied YAML.
const nbsp = '\u00a0'

// Decode decodes and checks every object of the sources: YAML syntax,
// known kinds and fields, field types, a name, and the kind's validation
// (after defaulting, in namespace ns for namespaced kinds). It returns
// every error found, each naming its source, document and field, so that
// nothing is applied when anything is wrong. Non-breaking spaces in a
// line's indentation are read as spaces, with a warning naming the line.
func Decode(sources []Source, ns string, warn io.Writer) ([]Object, error) {
	var out []Object
	var errs []error
	for _, src := range sources {
		data, err := cleanSpaces(src, warn)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs, err := documents(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", src.Name, err))
			continue
		}
		n := 0
		for _, d := range docs {
			objs, err := manifest.Decode(d.data)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: document %d: %s", src.Name, d.index, fileLines(trimDocPrefix(err), d.line)))
				continue
			}
			for _, o := range objs {
				k, _ := scheme.ForMessage(o)
				obj := Object{Source: src.Name, Doc: d.index, Kind: k, Obj: o}
				if err := check(obj, ns); err != nil {
					errs = append(errs, err)
					continue
				}
				out = append(out, obj)
			}
			n += len(objs)
		}
		if n == 0 && err == nil && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("%s: no objects in the manifest", src.Name))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// check names what is wrong with one object before it is sent.
func check(o Object, ns string) error {
	meta := resource.Meta(o.Obj)
	where := fmt.Sprintf("%s: document %d (%s)", o.Source, o.Doc, o.Kind.Kind)
	if meta.GetName() == "" && meta.GetGenerateName() == "" {
		return fmt.Errorf("%s: metadata.name: Required value: every object needs a name", where)
	}
	where = fmt.Sprintf("%s: document %d (%s %q)", o.Source, o.Doc, o.Kind.Kind, meta.GetName())
	c := proto.Clone(o.Obj)
	m := resource.Meta(c)
	if o.Kind.Namespaced && m.GetNamespace() == "" {
		m.Namespace = ns
	}
	if !o.Kind.Namespaced {
		m.Namespace = ""
	}
	if m.GetName() == "" {
		m.Name = m.GetGenerateName() + "x"
	}
	defaults.Apply(c)
	if errs := validation.Validate(c); len(errs) > 0 {
		return fmt.Errorf("%s: %s", where, errs.Error())
	}
	return nil
}

// cleanSpaces replaces non-breaking spaces in indentation with spaces and
// warns about each line it changed; one elsewhere in a line is an error
// naming the line and column.
func cleanSpaces(src Source, warn io.Writer) ([]byte, error) {
	if !bytes.ContainsRune(src.Data, nbsp) {
		return src.Data, nil
	}
	lines := strings.SplitAfter(string(src.Data), "\n")
	var b strings.Builder
	var fixed []int
	for i, l := range lines {
		indent := len(l) - len(strings.TrimLeft(l, " \t\u00a0"))
		head, rest := l[:indent], l[indent:]
		if strings.ContainsRune(head, nbsp) {
			fixed = append(fixed, i+1)
			head = strings.ReplaceAll(head, "\u00a0", " ")
		}
		if j := strings.IndexRune(rest, nbsp); j >= 0 {
			col := utf8.RuneCountInString(l[:indent+j]) + 1
			return nil, fmt.Errorf("%s: line %d, column %d: a non-breaking space (U+00A0, copied from a web page?) where YAML needs a plain space; replace it", src.Name, i+1, col)
		}
		b.WriteString(head)
		b.WriteString(rest)
	}
	if warn != nil {
		fmt.Fprintf(warn, "Warning: %s: non-breaking spaces (U+00A0) in the indentation of line%s read as spaces\n", src.Name, lineList(fixed))
	}
	return []byte(b.String()), nil
}

func lineList(ls []int) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = strconv.Itoa(l)
	}
	if len(parts) > 1 {
		return "s " + strings.Join(parts, ", ")
	}
	return " " + parts[0]
}

type document struct {
	index, line int // from 1; line is where it starts in the file
	data        []byte
}

// documents splits a manifest into its YAML documents (a JSON stream is
// one document) and remembers the line each starts on.
func documents(data []byte) ([]document, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return []document{{index: 1, line: 1, data: data}}, nil
	}
	var out []document
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	line, idx := 1, 0
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", idx+1, err)
		}
		start := line
		// The reader drops the separator lines; find the document's own
		// first line by skipping them in the source.
		for _, l := range bytes.SplitAfter(data[offsetOf(data, line):], []byte("\n")) {
			if !bytes.HasPrefix(l, []byte("---")) {
				break
			}
			start++
		}
		line = start + bytes.Count(d, []byte("\n"))
		if len(bytes.TrimSpace(d)) == 0 {
			continue
		}
		idx++
		out = append(out, document{index: idx, line: start, data: d})
	}
}

// offsetOf is the byte offset of line (from 1) in data.
func offsetOf(data []byte, line int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return len(data)
		}
		off += i + 1
	}
	return off
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// fileLines rewrites a YAML error's "line N", which counts from the
// document's start, into the line of the file.
func fileLines(msg string, start int) string {
	return yamlLine.ReplaceAllStringFunc(msg, func(s string) string {
		n, _ := strconv.Atoi(s[len("line "):])
		return "line " + strconv.Itoa(n+start-1)
	})
}

// trimDocPrefix drops the decoder's own "document 1: " (each document is
// decoded alone, so its index is always 1).
func trimDocPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "document 1: ")
}
