package allocator

import (
	"context"
	"fmt"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// BenchmarkAllocate measures cluster IP allocations per second under
// concurrency (RunParallel with -cpu goroutines times the parallelism) on
// embedded etcd, for the default /12 (a 128 KiB bitmap rewritten by each
// allocation) and a /16 (8 KiB). The baseline is what one allocation
// costs etcd at least: a read of a value of the same size and a
// compare-and-swap write of it, retried on conflicts, with the same
// concurrency, straight through the etcd client. Each side runs on an
// etcd of its own, started before the timer.
func BenchmarkAllocate(b *testing.B) {
	for _, cidr := range []string{"10.96.0.0/12", "10.96.0.0/16"} {
		for _, par := range []int{1, 8} {
			size := 0
			b.Run(fmt.Sprintf("range=%s/clients=%d/allocator", cidr, par*2), func(b *testing.B) {
				ips, err := NewIPs(newStoreB(b), cidr, nil)
				if err != nil {
					b.Fatal(err)
				}
				size = (ips.bitmap.size + 7) / 8
				b.SetParallelism(par)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := ips.AllocateNext(context.Background()); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			b.Run(fmt.Sprintf("range=%s/clients=%d/etcd-cas", cidr, par*2), func(b *testing.B) {
				c := newStoreB(b).Client()
				key := "/bench/cas"
				value := string(make([]byte, size))
				if _, err := c.Put(context.Background(), key, value); err != nil {
					b.Fatal(err)
				}
				b.SetParallelism(par)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						for {
							r, err := c.Get(context.Background(), key)
							if err != nil {
								b.Error(err)
								return
							}
							resp, err := c.Txn(context.Background()).
								If(clientv3.Compare(clientv3.ModRevision(key), "=", r.Kvs[0].ModRevision)).
								Then(clientv3.OpPut(key, value)).Commit()
							if err != nil {
								b.Error(err)
								return
							}
							if resp.Succeeded {
								break
							}
						}
					}
				})
			})
		}
	}
}
