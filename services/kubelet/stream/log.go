package stream

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// statusTimeout bounds one ContainerStatus call of a followed log.
const statusTimeout = 10 * time.Second

// Log streams a container's log, read from its CRI log file.
func (s *Server) Log(req *corev1.PodLogOptions, srv grpc.ServerStreamingServer[corev1.PodLogChunk]) error {
	opts, err := logOptionsFrom(req, time.Now())
	if err != nil {
		return err
	}
	c, err := s.locate(req.GetNamespace(), req.GetName(), req.GetContainer(), req.GetPrevious())
	if err != nil {
		return err
	}
	if c.LogPath == "" {
		return status.Errorf(codes.NotFound, "container %q in pod %q has no log file", req.GetContainer(), req.GetName())
	}
	f, err := os.Open(c.LogPath)
	if errors.Is(err, fs.ErrNotExist) {
		return status.Errorf(codes.NotFound, "log of container %q in pod %q not found: %v", req.GetContainer(), req.GetName(), err)
	} else if err != nil {
		return status.Errorf(codes.Internal, "open log of container %q in pod %q: %v", req.GetContainer(), req.GetName(), err)
	}
	// Open the stream now: a followed log that is still empty must not
	// leave the caller (kubectl logs -f) waiting for its headers.
	if err := srv.SendHeader(nil); err != nil {
		f.Close()
		return logStreamError(srv.Context(), err)
	}
	ctx := srv.Context()
	out := &chunker{
		send:   func(b []byte) error { return srv.Send(&corev1.PodLogChunk{Data: b}) },
		remain: opts.limit,
	}
	var fl *follower
	if opts.follow {
		fl = newFollower(c.LogPath, containerRunning(s.rt, c.ID), s.pollInterval, s.statusInterval)
		defer fl.close()
	}
	log := s.log.With(zap.String("pod", req.GetNamespace()+"/"+req.GetName()), zap.String("container", req.GetContainer()))
	log.Debug("log stream started", zap.String("containerID", c.ID), zap.Bool("follow", opts.follow))
	err = newLogReader(opts, out, log, fl).read(ctx, f)
	if err == nil {
		err = out.flush()
	}
	if err != nil {
		return logStreamError(ctx, err)
	}
	return nil
}

// logStreamError turns a failure while streaming into a gRPC status.
func logStreamError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Errorf(codes.Internal, "read container log: %v", err)
}

// logOptionsFrom checks a request's options, as Kubernetes validates
// PodLogOptions.
func logOptionsFrom(req *corev1.PodLogOptions, now time.Time) (logOptions, error) {
	opts := logOptions{tail: -1, limit: -1, timestamps: req.GetTimestamps(), follow: req.GetFollow()}
	if req.TailLines != nil {
		if req.GetTailLines() < 0 {
			return opts, status.Error(codes.InvalidArgument, "tailLines: must be greater than or equal to 0")
		}
		opts.tail = req.GetTailLines()
	}
	if req.SinceSeconds != nil {
		if req.GetSinceSeconds() < 1 {
			return opts, status.Error(codes.InvalidArgument, "sinceSeconds: must be greater than 0")
		}
		opts.since = now.Add(-time.Duration(req.GetSinceSeconds()) * time.Second)
	}
	if req.LimitBytes != nil {
		if req.GetLimitBytes() < 1 {
			return opts, status.Error(codes.InvalidArgument, "limitBytes: must be greater than 0")
		}
		opts.limit = req.GetLimitBytes()
	}
	return opts, nil
}

// containerRunning asks the runtime whether a container still runs. An
// unavailable runtime counts as running (containerd's shims keep containers
// alive across its restarts); a container the runtime no longer knows does
// not.
func containerRunning(rt runtimeapi.RuntimeServiceClient, id string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		cctx, cancel := context.WithTimeout(ctx, statusTimeout)
		defer cancel()
		resp, err := rt.ContainerStatus(cctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
		switch {
		case err == nil:
			return resp.GetStatus().GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING, nil
		case ctx.Err() != nil:
			return false, ctx.Err()
		case status.Code(err) == codes.Unavailable, status.Code(err) == codes.DeadlineExceeded:
			return true, nil
		case status.Code(err) == codes.NotFound:
			return false, nil
		default:
			return false, statusError(err, "status of container %s", id)
		}
	}
}
