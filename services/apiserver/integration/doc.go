// Package integration holds the apiserver's integration tests. Each test
// starts the real apiserver in-process with app.Run on 127.0.0.1 (embedded
// etcd in a temporary data dir, or Debian's etcd binary as an external
// cluster), and talks to it as its clients do: gRPC through the client
// module's clientset, Kubernetes-style REST with plain net/http, and etcd
// directly where a test must prove what was, or was not, written.
//
// The package holds only tests: harness_test.go starts a server, waits for
// /readyz and stops it on t.Cleanup; helpers_test.go holds the REST, watch
// and object helpers the tests share; podstream_helpers_test.go puts a fake
// kubelet (kubelet/kubelettest) behind a node for the pods/log and pods/exec
// tests.
package integration
