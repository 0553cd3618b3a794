//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// BenchmarkPodStartup creates 50 pods (the shell image, already on the
// node) at 5 per second and measures from sending each create to a watch
// seeing it Running with its container ready: scheduling, sandbox with
// CNI, container start and status report included.
//
//	go test -tags e2e -run '^$' -bench PodStartup -benchtime 1x ./test/e2e
func BenchmarkPodStartup(b *testing.B) {
	const pods, interval = 50, 200 * time.Millisecond
	for range b.N {
		ns := fmt.Sprintf("bench-startup-%d", time.Now().UnixNano())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		if _, err := cluster.CS.Namespaces().Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: ns}}); err != nil {
			b.Fatal(err)
		}
		// Warm the image so every pod measures the same path.
		warm := shellPod("warm", "sleep", "100000")
		warm.Metadata.Namespace = ns
		if _, err := cluster.CS.Pods().Create(ctx, warm); err != nil {
			b.Fatal(err)
		}
		w, err := cluster.CS.Pods().Watch(ctx, &metav1.ListOptions{Namespace: ns})
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		sent := map[string]time.Time{}
		var lat []time.Duration
		done := make(chan error, 1)
		go func() {
			seen := map[string]bool{}
			for len(lat) < pods {
				ev, err := w.Recv()
				if err != nil {
					done <- err
					return
				}
				p := ev.GetObject()
				name := p.GetMetadata().GetName()
				if seen[name] || !running(p) {
					continue
				}
				mu.Lock()
				at, ok := sent[name]
				mu.Unlock()
				if ok {
					seen[name] = true
					lat = append(lat, time.Since(at))
				}
			}
			done <- nil
		}()
		waitFor(b, ctx, ns, "warm")
		b.ResetTimer()
		for i := range pods {
			p := shellPod(fmt.Sprintf("p%02d", i), "sleep", "100000")
			p.Metadata.Namespace = ns
			p.Spec.TerminationGracePeriodSeconds = proto.Int32(0)
			p.Spec.Containers[0].ImagePullPolicy = "IfNotPresent"
			mu.Lock()
			sent[p.Metadata.Name] = time.Now()
			mu.Unlock()
			if _, err := cluster.CS.Pods().Create(ctx, p); err != nil {
				b.Fatal(err)
			}
			time.Sleep(interval) // the creation rate, not a wait for a result
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
		cancel()
		cleanupNamespacePods(ns)
	}
}

func waitFor(b *testing.B, ctx context.Context, ns, name string) {
	b.Helper()
	err := poll(60*time.Second, func() error {
		p, err := cluster.CS.Pods().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: name})
		if err != nil {
			return err
		}
		if !running(p) {
			return fmt.Errorf("not running")
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func cleanupNamespacePods(ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := cluster.CS.Pods().List(ctx, &metav1.ListOptions{Namespace: ns})
	if err != nil {
		return
	}
	for _, p := range l.GetItems() {
		_, _ = cluster.CS.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: ns, Name: p.GetMetadata().GetName(), GracePeriodSeconds: proto.Int32(0)})
	}
	_ = poll(time.Minute, func() error {
		l, err := cluster.CS.Pods().List(ctx, &metav1.ListOptions{Namespace: ns})
		if err != nil || len(l.GetItems()) > 0 {
			return fmt.Errorf("pods left")
		}
		return nil
	})
}
