package retry

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestOnConflict(t *testing.T) {
	conflict := status.Error(codes.Aborted, "the object has been modified")
	other := errors.New("boom")
	tests := []struct {
		name  string
		errs  []error // what fn returns, call by call
		want  error
		calls int
	}{
		{"success at once", []error{nil}, nil, 1},
		{"success after two conflicts", []error{conflict, conflict, nil}, nil, 3},
		{"a wrapped conflict is a conflict", []error{fmt.Errorf("deployment web: %w", conflict), nil}, nil, 2},
		{"another error is returned at once", []error{other}, other, 1},
		{"another error after a conflict", []error{conflict, other}, other, 2},
		{"gives up after Attempts conflicts", []error{conflict, conflict, conflict, conflict, conflict, nil}, conflict, Attempts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := OnConflict(func() error {
				calls++
				return tc.errs[calls-1]
			})
			if err != tc.want {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if calls != tc.calls {
				t.Errorf("fn ran %d times, want %d", calls, tc.calls)
			}
		})
	}
}
