// Package integration holds tests that run several Tugboat components
// together in-process through the harness package: a real apiserver on
// embedded etcd and the components under test, talking gRPC as they do
// when deployed.
package integration
