package watchcache

// window is a fixed-size ring of the most recent events, oldest first.
type window struct {
	buf   []Event
	start int // index of the oldest event
	n     int
}

// reset empties the window and sizes it for capacity events.
func (w *window) reset(capacity int) {
	if cap(w.buf) != capacity {
		w.buf = make([]Event, capacity)
	}
	clear(w.buf)
	w.start, w.n = 0, 0
}

// push appends e; when the window was full it drops and returns the oldest.
func (w *window) push(e Event) (evicted Event, ok bool) {
	if len(w.buf) == 0 {
		return e, true
	}
	if w.n == len(w.buf) {
		evicted, ok = w.buf[w.start], true
		w.buf[w.start] = e
		w.start = (w.start + 1) % len(w.buf)
		return evicted, ok
	}
	w.buf[(w.start+w.n)%len(w.buf)] = e
	w.n++
	return Event{}, false
}

// after returns a copy of the events with a revision above rev, in order.
func (w *window) after(rev int64) []Event {
	// Revisions ascend, so find the first one above rev by binary search.
	lo, hi := 0, w.n
	for lo < hi {
		mid := (lo + hi) / 2
		if w.buf[(w.start+mid)%len(w.buf)].Revision > rev {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == w.n {
		return nil
	}
	out := make([]Event, 0, w.n-lo)
	for i := lo; i < w.n; i++ {
		out = append(out, w.buf[(w.start+i)%len(w.buf)])
	}
	return out
}
