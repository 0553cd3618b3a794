package fakeruntime

import (
	"context"
	"maps"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeMemory is the working set every running container reports.
const fakeMemory = 4 << 20

// stats is a minimal, constant usage: no CPU, 4 MiB of memory while
// running, an empty writable layer.
func (c *container) stats(now int64) *runtimeapi.ContainerStats {
	var mem uint64
	if c.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
		mem = fakeMemory
	}
	return &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{
			Id:          c.id,
			Metadata:    proto.CloneOf(c.meta),
			Labels:      maps.Clone(c.labels),
			Annotations: maps.Clone(c.annotations),
		},
		Cpu: &runtimeapi.CpuUsage{Timestamp: now, UsageCoreNanoSeconds: &runtimeapi.UInt64Value{}, UsageNanoCores: &runtimeapi.UInt64Value{}},
		Memory: &runtimeapi.MemoryUsage{Timestamp: now,
			WorkingSetBytes: &runtimeapi.UInt64Value{Value: mem}, UsageBytes: &runtimeapi.UInt64Value{Value: mem}},
		WritableLayer: &runtimeapi.FilesystemUsage{Timestamp: now,
			FsId:      &runtimeapi.FilesystemIdentifier{Mountpoint: imageFsMountpoint},
			UsedBytes: &runtimeapi.UInt64Value{}, InodesUsed: &runtimeapi.UInt64Value{}},
	}
}

// ContainerStats returns the container's (constant) usage.
func (r *Runtime) ContainerStats(_ context.Context, req *runtimeapi.ContainerStatsRequest) (*runtimeapi.ContainerStatsResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.containers[req.GetContainerId()]
	if c == nil {
		return nil, notFound("container", req.GetContainerId())
	}
	return &runtimeapi.ContainerStatsResponse{Stats: c.stats(nowNano())}, nil
}

// ListContainerStats returns the usage of the containers matching the filter.
func (r *Runtime) ListContainerStats(_ context.Context, req *runtimeapi.ListContainerStatsRequest) (*runtimeapi.ListContainerStatsResponse, error) {
	return &runtimeapi.ListContainerStatsResponse{Stats: r.listStats(req.GetFilter())}, nil
}

// StreamContainerStats is ListContainerStats in chunks.
func (r *Runtime) StreamContainerStats(req *runtimeapi.StreamContainerStatsRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamContainerStatsResponse]) error {
	return sendChunks(r.listStats(req.GetFilter()), streamChunk, func(c []*runtimeapi.ContainerStats) error {
		return stream.Send(&runtimeapi.StreamContainerStatsResponse{ContainerStats: c})
	})
}

func (r *Runtime) listStats(f *runtimeapi.ContainerStatsFilter) []*runtimeapi.ContainerStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := nowNano()
	var found []*container
	r.eachContainer(f.GetId(), f.GetPodSandboxId(), func(c *container) {
		if matchLabels(c.labels, f.GetLabelSelector()) {
			found = append(found, c)
		}
	})
	slices.SortFunc(found, bySeq)
	out := make([]*runtimeapi.ContainerStats, len(found))
	for i, c := range found {
		out[i] = c.stats(now)
	}
	return out
}
