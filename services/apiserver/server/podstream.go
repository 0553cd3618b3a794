package server

import (
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Log streams a container's log from the pod's kubelet (pods/log).
func (p *podService) Log(*corev1.PodLogOptions, grpc.ServerStreamingServer[corev1.PodLogChunk]) error {
	return status.Error(codes.Unimplemented, "pods/log is not served yet")
}

// Exec runs a command in a container through the pod's kubelet (pods/exec).
func (p *podService) Exec(grpc.BidiStreamingServer[corev1.PodExecRequest, corev1.PodExecResponse]) error {
	return status.Error(codes.Unimplemented, "pods/exec is not served yet")
}
