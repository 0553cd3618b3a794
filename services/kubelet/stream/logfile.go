package stream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"
)

// logOptions are a Log request's options, checked.
type logOptions struct {
	// tail is how many lines from the end to start at; negative is all.
	tail int64
	// since drops lines written before it; zero keeps all.
	since time.Time
	// timestamps prefixes each line with its time.
	timestamps bool
	// limit is the most bytes to send; negative is no limit.
	limit int64
	// follow keeps reading new lines while the container runs.
	follow bool
}

// readBufferSize is the read buffer; containerd splits lines longer than
// 16 KiB into partial records, so a record normally fits.
const readBufferSize = 64 << 10

// logReader turns a container's CRI log file into its text: stdout and
// stderr merged in the order written, partial records joined.
type logReader struct {
	opts logOptions
	out  *chunker
	log  *zap.Logger
	// follow waits for more at the end of the file; nil reads to the end once.
	follow *follower

	lineStart bool   // the next record starts a line
	skip      bool   // the current line is older than since
	scratch   []byte // one record's output
}

func newLogReader(opts logOptions, out *chunker, log *zap.Logger, follow *follower) *logReader {
	return &logReader{opts: opts, out: out, log: log, follow: follow, lineStart: true}
}

// read writes the log in f to the chunker, from the tail offset to the end,
// and with a follower on, into the files that replace f, until the follower
// says stop. It closes f. The chunker's last flush is the caller's.
func (r *logReader) read(ctx context.Context, f *os.File) error {
	defer func() { f.Close() }()
	start, err := tailOffset(f, r.opts.tail)
	if err != nil {
		return fmt.Errorf("find the last %d lines of %s: %w", r.opts.tail, f.Name(), err)
	}
	if r.opts.tail == 0 && r.follow == nil {
		return nil
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("seek in %s: %w", f.Name(), err)
	}
	br := bufio.NewReaderSize(f, readBufferSize)
	pos := start // file offset of the bytes br has returned
	var line []byte
	for {
		b, err := br.ReadSlice('\n')
		pos += int64(len(b))
		line = append(line, b...)
		if err == nil {
			full, err := r.emit(line)
			if err != nil || full {
				return err
			}
			line = line[:0]
			continue
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != io.EOF {
			return fmt.Errorf("read %s: %w", f.Name(), err)
		}
		// At the end of what has been written so far; line holds an
		// unfinished record, if any.
		if err := r.out.flush(); err != nil {
			return err
		}
		if r.follow == nil {
			break
		}
		next, nf, err := r.follow.next(ctx, f, pos)
		if err != nil {
			return err
		}
		if next == stop {
			break
		}
		switch next {
		case truncated:
			// Copied and truncated in place: read it again from the start.
			r.log.Debug("log file truncated", zap.String("path", f.Name()))
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("seek in %s: %w", f.Name(), err)
			}
			r.lineStart = true
		case reopened:
			// Rotated: the old file has been read to its end.
			r.log.Debug("log file rotated", zap.String("path", f.Name()))
			if full, err := r.emitRest(line); err != nil || full {
				nf.Close()
				return err
			}
			f.Close()
			f = nf
		default:
			continue
		}
		br.Reset(f)
		pos = 0
		line = line[:0]
	}
	_, err = r.emitRest(line)
	return err
}

// emitRest writes an unfinished last record.
func (r *logReader) emitRest(line []byte) (full bool, err error) {
	if len(line) == 0 {
		return false, nil
	}
	return r.emit(line)
}

// emit writes one record's text; full reports that the byte limit is reached.
func (r *logReader) emit(line []byte) (full bool, err error) {
	rec, err := parseRecord(line)
	if err != nil {
		r.log.Debug("skipping malformed log line", zap.Error(err))
		return false, nil
	}
	start := r.lineStart
	r.lineStart = !rec.partial
	if start {
		// A line is kept or dropped whole, by the time of its first record.
		r.skip = rec.time.Before(r.opts.since)
	}
	if r.skip {
		return false, nil
	}
	b := r.scratch[:0]
	if start && r.opts.timestamps {
		b = rec.time.AppendFormat(b, timestampFormat)
		b = append(b, ' ')
	}
	b = append(b, rec.text...)
	if !rec.partial {
		b = append(b, '\n')
	}
	r.scratch = b
	return r.out.write(b)
}
