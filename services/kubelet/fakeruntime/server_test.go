package fakeruntime

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestListenMemory(t *testing.T) {
	rt, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	lis, endpoint, dial := ListenMemory()
	if endpoint != MemoryEndpoint {
		t.Fatalf("endpoint = %q", endpoint)
	}
	e := serve(t, rt, lis, endpoint, grpc.WithContextDialer(dial))
	_, id := e.runContainer(t, "web", "tugboat.local/app:v1")
	if st := e.containerStatus(t, id); st.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("state = %v", st.State)
	}
}

func TestServeReturnsWhenCancelled(t *testing.T) {
	rt, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	lis, _, err := Listen(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx, lis) }()
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Serve = %v, want nil after cancel", err)
	}
}

// TestManyHollowNodes runs many runtimes in one process over in-memory
// connections, each with a pod, and checks that nothing is left running
// once they are shut down.
func TestManyHollowNodes(t *testing.T) {
	const nodes = 200
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	conns := make([]*grpc.ClientConn, nodes)
	for i := range nodes {
		rt, err := New(Config{PodCIDR: "10.244.0.0/16"})
		if err != nil {
			t.Fatal(err)
		}
		lis, endpoint, dial := ListenMemory()
		wg.Go(func() {
			if err := rt.Serve(ctx, lis); err != nil {
				t.Errorf("Serve: %v", err)
			}
			rt.Close()
		})
		conn, err := grpc.NewClient(endpoint, grpc.WithContextDialer(dial), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = conn
		e := &env{rt: rt, rs: runtimeapi.NewRuntimeServiceClient(conn), is: runtimeapi.NewImageServiceClient(conn), ctx: t.Context()}
		e.runContainer(t, "web", "tugboat.local/app:v1")
		if c := rt.Counters(); c.RunningContainers != 1 {
			t.Fatalf("node %d: counters %+v", i, c)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	cancel()
	wg.Wait()
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before+5 })
}
