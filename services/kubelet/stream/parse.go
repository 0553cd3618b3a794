package stream

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// timestampFormat is how a line's time is shown with timestamps: RFC 3339
// with fixed-width nanoseconds, as the Kubernetes kubelet writes it.
const timestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// record is one line of a CRI log file.
type record struct {
	time   time.Time
	stream runtimeapi.LogStreamType
	// partial is the P tag: the text continues in the next record.
	partial bool
	// text is the content without the record's trailing newline.
	text []byte
}

var errMalformed = errors.New("malformed CRI log line")

// parseRecord parses one CRI log line:
//
//	2016-10-06T00:17:09.669794202Z stdout P log content 1
//	2016-10-06T00:17:09.669794203Z stderr F log content 2
//
// The tag may carry more fields after a colon (F:x); only the first counts.
// text aliases line.
func parseRecord(line []byte) (record, error) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return record{}, fmt.Errorf("%w: no timestamp", errMalformed)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return record{}, fmt.Errorf("%w: timestamp %q", errMalformed, ts)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return record{}, fmt.Errorf("%w: no stream", errMalformed)
	}
	s := runtimeapi.LogStreamType(stream)
	if s != runtimeapi.Stdout && s != runtimeapi.Stderr {
		return record{}, fmt.Errorf("%w: stream %q", errMalformed, stream)
	}
	// An empty line may come without the space after the tag.
	tags, text, _ := bytes.Cut(rest, []byte{' '})
	tag, _, _ := bytes.Cut(tags, []byte(runtimeapi.LogTagDelimiter))
	switch runtimeapi.LogTag(tag) {
	case runtimeapi.LogTagPartial, runtimeapi.LogTagFull:
	default:
		return record{}, fmt.Errorf("%w: tag %q", errMalformed, tags)
	}
	return record{
		time:    t,
		stream:  s,
		partial: runtimeapi.LogTag(tag) == runtimeapi.LogTagPartial,
		text:    text,
	}, nil
}
