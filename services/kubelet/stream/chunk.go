package stream

// chunkSize is the most data one message carries.
const chunkSize = 32 << 10

// chunker gathers output into messages of up to chunkSize bytes and stops at
// a byte limit.
type chunker struct {
	send func([]byte) error
	buf  []byte
	// remain is how many bytes may still be written; negative is no limit.
	remain int64
}

// write appends p, sending every full chunk; full reports that the byte
// limit is reached (p is cut at it).
func (c *chunker) write(p []byte) (full bool, err error) {
	if c.remain >= 0 {
		if int64(len(p)) >= c.remain {
			p, full = p[:c.remain], true
		}
		c.remain -= int64(len(p))
	}
	for len(p) > 0 {
		n := min(len(p), chunkSize-len(c.buf))
		c.buf = append(c.buf, p[:n]...)
		p = p[n:]
		if len(c.buf) == chunkSize {
			if err := c.flush(); err != nil {
				return false, err
			}
		}
	}
	return full, nil
}

// flush sends what is gathered.
func (c *chunker) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	// gRPC may hold on to a sent message (stats handlers), so each chunk
	// gets its own buffer.
	b := c.buf
	c.buf = nil
	return c.send(b)
}
