package workqueue

import (
	"container/heap"
	"sync"
	"time"
)

// delayer adds keys to the queue once their time has come. A key waiting
// twice keeps the earlier time.
type delayer[K comparable] struct {
	add func(K)

	mu      sync.Mutex
	waiting waitHeap[K]
	index   map[K]*waitItem[K]
	wake    chan struct{}
	done    chan struct{}
	once    sync.Once
}

type waitItem[K comparable] struct {
	key   K
	ready time.Time
	pos   int
}

func newDelayer[K comparable](add func(K)) *delayer[K] {
	d := &delayer[K]{
		add:   add,
		index: map[K]*waitItem[K]{},
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	go d.loop()
	return d
}

func (d *delayer[K]) addAfter(key K, after time.Duration) {
	ready := time.Now().Add(after)
	d.mu.Lock()
	if it, ok := d.index[key]; ok {
		if ready.Before(it.ready) {
			it.ready = ready
			heap.Fix(&d.waiting, it.pos)
		}
	} else {
		it := &waitItem[K]{key: key, ready: ready}
		heap.Push(&d.waiting, it)
		d.index[key] = it
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *delayer[K]) stop() { d.once.Do(func() { close(d.done) }) }

func (d *delayer[K]) loop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		var due []K
		next := time.Hour
		d.mu.Lock()
		for d.waiting.Len() > 0 {
			it := d.waiting[0]
			if it.ready.After(now) {
				next = it.ready.Sub(now)
				break
			}
			heap.Pop(&d.waiting)
			delete(d.index, it.key)
			due = append(due, it.key)
		}
		d.mu.Unlock()
		for _, k := range due {
			d.add(k)
		}
		timer.Reset(next)
		select {
		case <-d.done:
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// waitHeap orders waiting keys by readiness.
type waitHeap[K comparable] []*waitItem[K]

func (h waitHeap[K]) Len() int           { return len(h) }
func (h waitHeap[K]) Less(i, j int) bool { return h[i].ready.Before(h[j].ready) }
func (h waitHeap[K]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i, j
}
func (h *waitHeap[K]) Push(x any) {
	it := x.(*waitItem[K])
	it.pos = len(*h)
	*h = append(*h, it)
}
func (h *waitHeap[K]) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
