package stream

import (
	"context"
	"os"
	"time"
)

// followStep is what a follower says to do at the end of the log file.
type followStep int

const (
	// readOn: read the same file again from where it stopped.
	readOn followStep = iota
	// truncated: the file shrank below what was read; read it from the start.
	truncated
	// reopened: the path names a new file (the log was rotated); read that
	// one from the start.
	reopened
	// stop: the container no longer runs and its log has been read.
	stop
)

// follower decides, each time a followed log reaches the end of its file,
// whether more can come and waits for it: polling the file on a ticker and
// asking the runtime now and then whether the container still runs. Both a
// stop and a switch to a rotated file come only after one more read of the
// old file to its end, so lines written just before are not lost.
type follower struct {
	path           string
	running        func(context.Context) (bool, error)
	statusInterval time.Duration
	tick           *time.Ticker

	lastStatus time.Time
	exited     bool     // the container was seen not running
	rotated    *os.File // the file now at path, read once the old one is done
}

func newFollower(path string, running func(context.Context) (bool, error), poll, statusInterval time.Duration) *follower {
	return &follower{path: path, running: running, statusInterval: statusInterval, tick: time.NewTicker(poll)}
}

// close stops the ticker and closes a rotated file not yet handed out.
func (fl *follower) close() {
	fl.tick.Stop()
	if fl.rotated != nil {
		fl.rotated.Close()
	}
}

// next is called at the end of f after pos bytes. With reopened it returns
// the new file, now the caller's.
func (fl *follower) next(ctx context.Context, f *os.File, pos int64) (followStep, *os.File, error) {
	if nf := fl.rotated; nf != nil {
		fl.rotated = nil
		return reopened, nf, nil
	}
	if fl.exited {
		return stop, nil, nil
	}
	if st, err := f.Stat(); err == nil && st.Size() < pos {
		return truncated, nil, nil
	}
	if nf := fl.replacement(f); nf != nil {
		fl.rotated = nf
		return readOn, nil, nil
	}
	if time.Since(fl.lastStatus) >= fl.statusInterval {
		fl.lastStatus = time.Now()
		running, err := fl.running(ctx)
		if err != nil {
			return stop, nil, err
		}
		if !running {
			fl.exited = true
			return readOn, nil, nil
		}
	}
	select {
	case <-ctx.Done():
		return stop, nil, ctx.Err()
	case <-fl.tick.C:
		return readOn, nil, nil
	}
}

// replacement opens the file at path when it is no longer f: the log was
// rotated (renamed away and created anew). Until the new file exists the
// old one is kept.
func (fl *follower) replacement(f *os.File) *os.File {
	cur, err := f.Stat()
	if err != nil {
		return nil
	}
	if st, err := os.Stat(fl.path); err != nil || os.SameFile(cur, st) {
		return nil
	}
	nf, err := os.Open(fl.path)
	if err != nil {
		return nil
	}
	if st, err := nf.Stat(); err != nil || os.SameFile(cur, st) {
		nf.Close()
		return nil
	}
	return nf
}
