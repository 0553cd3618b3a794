package core

import (
	"math"
	"sync"
	"sync/atomic"
)

// minParallelPieces is the least work split across goroutines; below it
// starting them costs more than it saves.
const minParallelPieces = 32

// parallel calls fn(i) for i in [0, pieces) on up to s.parallelism
// goroutines that take chunks of indexes in turn, so that slow pieces do
// not hold up a fixed share of the work.
func (s *Scheduler) parallel(pieces int, fn func(i int)) {
	workers := min(s.parallelism, pieces)
	if workers <= 1 || pieces < minParallelPieces {
		for i := range pieces {
			fn(i)
		}
		return
	}
	chunk := int64(chunkSize(pieces, workers))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				end := next.Add(chunk)
				start := end - chunk
				if start >= int64(pieces) {
					return
				}
				for i := start; i < min(end, int64(pieces)); i++ {
					fn(int(i))
				}
			}
		})
	}
	wg.Wait()
}

// chunkSize balances handing out work (fewer, larger chunks) against
// evening it out (more, smaller ones), as Kubernetes does: the square root
// of the pieces, at most one worker's even share.
func chunkSize(pieces, workers int) int {
	return max(1, min(int(math.Sqrt(float64(pieces))), pieces/workers+1))
}
