package stream

import (
	"bufio"
	"errors"
	"io"
)

// tailOffset reads r to its end and returns the offset at which its last n
// lines start (0 for all of it when n is negative or exceeds the lines, the
// end when n is 0). A line is a run of partial records ended by a full one.
func tailOffset(r io.Reader, n int64) (int64, error) {
	if n < 0 {
		return 0, nil
	}
	br := bufio.NewReaderSize(r, readBufferSize)
	var (
		starts    []int64 // ring of the last n line starts
		next      int     // oldest entry once the ring is full
		pos       int64
		midRecord bool // the last fragment did not end its record
		lineStart = true
	)
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 && !midRecord {
			if rec, perr := parseRecord(b); perr == nil {
				if lineStart && n > 0 {
					if int64(len(starts)) < n {
						starts = append(starts, pos)
					} else {
						starts[next] = pos
						next = (next + 1) % len(starts)
					}
				}
				lineStart = !rec.partial
			}
		}
		pos += int64(len(b))
		midRecord = errors.Is(err, bufio.ErrBufferFull)
		switch {
		case err == nil || midRecord:
		case err == io.EOF:
			if n == 0 {
				return pos, nil
			}
			if int64(len(starts)) < n {
				return 0, nil
			}
			return starts[next], nil
		default:
			return 0, err
		}
	}
}
