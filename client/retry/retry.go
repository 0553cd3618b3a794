// Package retry runs a read-modify-write again when it lost a race: the
// apiserver refuses an update carrying a stale resourceVersion with a
// conflict (gRPC Aborted), and the caller should read the object afresh
// and apply its change to the newer copy.
package retry

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Attempts bounds how often OnConflict runs its function: a writer that
// keeps losing to others gives up with the last conflict rather than
// spinning.
const Attempts = 5

// OnConflict runs fn, which must read what it changes, until it returns
// anything but a conflict, at most Attempts times; it returns fn's last
// error.
func OnConflict(fn func() error) error {
	var err error
	for range Attempts {
		if err = fn(); status.Code(err) != codes.Aborted {
			return err
		}
	}
	return err
}
