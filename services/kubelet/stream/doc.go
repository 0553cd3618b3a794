// Package stream is the kubelet's KubeletService: container logs and exec,
// served over gRPC to the apiserver, which forwards `tug logs` and `tug exec`
// (pods/log, pods/exec) after resolving the container name.
//
// Logs are read from the runtime's CRI log files
// (`<RFC3339Nano time> <stdout|stderr> <F|P> <text>` lines), following new
// lines with a polling ticker until the container stops (as CRI
// ContainerStatus reports) or the caller goes away. Exec asks the runtime for
// a streaming URL (CRI Exec) and connects to it with client-go's SPDY
// executor, the protocol containerd's streaming server speaks.
//
// The kubelet supplies a Locator that maps (namespace, pod, container) to a
// CRI container from its pod state; everything else is in this package.
package stream
