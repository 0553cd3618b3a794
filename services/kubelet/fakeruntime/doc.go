// Package fakeruntime is an in-memory CRI v1 runtime for hollow nodes and unit
// tests.
//
// A *Runtime implements the RuntimeService and ImageService gRPC servers of
// k8s.io/cri-api, so a kubelet talking to it over gRPC cannot tell it from
// containerd: sandboxes get an IP from a configurable pod CIDR (a string only,
// never routed), containers go through CREATED, RUNNING and EXITED, images are
// pulled into an in-memory store and container logs are written in the CRI
// log format to the path the kubelet asked for.
//
// Tests steer it with methods on *Runtime, all safe for concurrent use:
// SetImageMissing makes a pull fail, SetCommandMissing and
// SetCreateContainerError make CreateContainer fail, ExitContainer ends a
// running container, SetBehavior makes the containers of an image exit by
// themselves, write logs or ignore SIGTERM, SetExecFunc programs ExecSync,
// and Counters, Containers, Sandboxes and OnEvent let a test assert on what
// the kubelet did.
//
// It is cheap enough to run a thousand in one process: no goroutine per
// sandbox or container, a timer only for a container that is told to exit
// after a delay (stopped when the container ends or the Runtime is closed),
// and an in-memory listener (ListenMemory) so that nodes need no sockets.
//
// Serving it on a unix socket, which the kubelet dials as it would dial
// containerd's:
//
//	rt, _ := fakeruntime.New(fakeruntime.Config{PodCIDR: "10.244.3.0/24"})
//	lis, endpoint, _ := fakeruntime.Listen(dir) // endpoint is "unix:///dir/fake.sock"
//	go rt.Serve(ctx, lis)
//
// or in memory, the dialer going with the endpoint ("passthrough:///fakeruntime"):
//
//	lis, endpoint, dial := fakeruntime.ListenMemory()
//	go rt.Serve(ctx, lis)
//	conn, _ := grpc.NewClient(endpoint, grpc.WithContextDialer(dial),
//		grpc.WithTransportCredentials(insecure.NewCredentials()))
//
// A kubelet that sends its node's pod CIDR with UpdateRuntimeConfig changes
// the range later sandboxes are given IPs from.
package fakeruntime
