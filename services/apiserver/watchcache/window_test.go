package watchcache

import (
	"fmt"
	"testing"
)

func revisions(evs []Event) []int64 {
	out := []int64{}
	for _, e := range evs {
		out = append(out, e.Revision)
	}
	return out
}

func TestWindow(t *testing.T) {
	var w window
	w.reset(3)
	for _, rev := range []int64{10, 11, 12} {
		if _, ok := w.push(Event{Revision: rev}); ok {
			t.Fatalf("push %d evicted from a window that was not full", rev)
		}
	}
	evicted, ok := w.push(Event{Revision: 13})
	if !ok || evicted.Revision != 10 {
		t.Fatalf("push 13 into a full window evicted %v %v, want revision 10", evicted.Revision, ok)
	}
	tests := []struct {
		after int64
		want  []int64
	}{
		{0, []int64{11, 12, 13}},
		{11, []int64{12, 13}},
		{12, []int64{13}},
		{13, []int64{}},
		{99, []int64{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.after), func(t *testing.T) {
			if got := revisions(w.after(tt.after)); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("after(%d) = %v, want %v", tt.after, got, tt.want)
			}
		})
	}
	w.reset(3)
	if got := w.after(0); len(got) != 0 {
		t.Fatalf("after reset: %v", revisions(got))
	}
}
