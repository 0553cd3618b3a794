package stream

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	kubeletv1 "github.com/tugboat-sh/tugboat/gen/tugboat/kubelet/v1"
)

// Container is one CRI container as the Locator finds it.
type Container struct {
	// ID is the CRI container ID.
	ID string
	// LogPath is the absolute path of the container's CRI log file
	// (the sandbox's log directory joined with the container's log path).
	LogPath string
}

// Locator finds the CRI container behind a pod's container name. The
// kubelet implements it from its pod state.
type Locator interface {
	// Container returns the current instance of the named container, or with
	// previous its last terminated instance. When there is no such container
	// it returns an error wrapping ErrNotFound; an error that is a gRPC
	// status is passed on as it is.
	Container(namespace, pod, container string, previous bool) (Container, error)
}

// ErrNotFound is what a Locator wraps when the container does not exist.
var ErrNotFound = errors.New("container not found")

// Server implements kubeletv1.KubeletServiceServer over a CRI runtime.
type Server struct {
	kubeletv1.UnimplementedKubeletServiceServer

	rt  runtimeapi.RuntimeServiceClient
	loc Locator
	log *zap.Logger

	// pollInterval is how often a followed log is checked for new lines;
	// statusInterval how often the runtime is asked whether the container
	// still runs. Tests shorten them.
	pollInterval   time.Duration
	statusInterval time.Duration
}

var _ kubeletv1.KubeletServiceServer = (*Server)(nil)

// New returns a Server that reads logs and runs commands through rt, finding
// containers with loc.
func New(rt runtimeapi.RuntimeServiceClient, loc Locator, log *zap.Logger) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	return &Server{
		rt:             rt,
		loc:            loc,
		log:            log,
		pollInterval:   250 * time.Millisecond,
		statusInterval: time.Second,
	}
}

// locate asks the Locator for a container and turns its failure into a
// gRPC status.
func (s *Server) locate(namespace, pod, container string, previous bool) (Container, error) {
	if pod == "" {
		return Container{}, status.Error(codes.InvalidArgument, "pod name is required")
	}
	c, err := s.loc.Container(namespace, pod, container, previous)
	switch {
	case errors.Is(err, ErrNotFound):
		what := "container"
		if previous {
			what = "previous terminated container"
		}
		return Container{}, status.Errorf(codes.NotFound, "%s %q in pod %q not found", what, container, pod)
	case err != nil:
		if _, ok := status.FromError(err); ok {
			return Container{}, err
		}
		return Container{}, status.Errorf(codes.Internal, "find container %q in pod %q: %v", container, pod, err)
	case c.ID == "":
		return Container{}, status.Errorf(codes.Internal, "container %q in pod %q has no CRI container ID", container, pod)
	}
	return c, nil
}

// statusError passes a gRPC status from the runtime on with context added
// to its message, and wraps any other error as Internal.
func statusError(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if st, ok := status.FromError(err); ok {
		return status.Errorf(st.Code(), "%s: %s", msg, st.Message())
	}
	return status.Errorf(codes.Internal, "%s: %v", msg, err)
}
