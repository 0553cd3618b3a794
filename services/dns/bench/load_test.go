package bench

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// result is one load run, or the sum of several.
type result struct {
	queries int
	errors  int64
	elapsed time.Duration
	lat     []time.Duration
}

func (r result) rate() float64 { return float64(r.queries) / r.elapsed.Seconds() }

func (r *result) add(o result) {
	r.queries += o.queries
	r.errors += o.errors
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
}

// quantile returns the q quantile of the latencies.
func (r result) quantile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	slices.Sort(r.lat)
	return r.lat[int(q*float64(len(r.lat)-1))]
}

// load sends total A queries for names (round robin, each client from
// its own offset) to addr from clients concurrent UDP clients, each one
// query at a time, and checks every answer is want[name].
func load(tb testing.TB, addr string, names []string, want map[string]string, clients, total int) result {
	tb.Helper()
	var (
		wg       sync.WaitGroup
		errs     atomic.Int64
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, total)
		firstErr atomic.Value
	)
	per := total / clients
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			conn, err := cl.Dial(addr)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				errs.Add(int64(per))
				return
			}
			defer conn.Close()
			mine := make([]time.Duration, 0, per)
			m := new(dns.Msg)
			for i := range per {
				name := names[(c*per+i)%len(names)]
				m.SetQuestion(name, dns.TypeA)
				t0 := time.Now()
				_ = conn.SetDeadline(t0.Add(2 * time.Second))
				err := conn.WriteMsg(m)
				var resp *dns.Msg
				for err == nil { // skip a late answer to an earlier, timed-out query
					if resp, err = conn.ReadMsg(); err == nil && resp.Id == m.Id {
						break
					}
				}
				mine = append(mine, time.Since(t0))
				if err == nil && (resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != want[name]) {
					err = fmt.Errorf("%s: answer %v", name, resp.Answer)
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					errs.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	r := result{queries: per * clients, errors: errs.Load(), elapsed: time.Since(start), lat: lat}
	if e := firstErr.Load(); e != nil {
		tb.Logf("%s: %d of %d queries failed, first: %v", addr, r.errors, r.queries, e)
	}
	return r
}
