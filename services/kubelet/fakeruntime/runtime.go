package fakeruntime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Defaults for the zero Config.
const (
	DefaultPodCIDR        = "10.244.0.0/24"
	DefaultRegistry       = "tugboat.local"
	DefaultRuntimeName    = "fakeruntime"
	DefaultRuntimeVersion = "0.1.0"
	// APIVersion is the CRI version Version reports.
	APIVersion = "v1"
)

// Config configures a Runtime. The zero value is usable.
type Config struct {
	// PodCIDR is the range sandbox IPs are assigned from, DefaultPodCIDR when
	// empty. The network address and the first address (the bridge gateway)
	// are never handed out, nor is the IPv4 broadcast address.
	PodCIDR string
	// Registries are the registry hosts whose images PullImage finds;
	// [DefaultRegistry] when empty. Any other image must be added with
	// AddImage or listed in Images.
	Registries []string
	// Images are present from the start, as if imported (the pause image).
	Images []string
	// RuntimeName and RuntimeVersion are what Version reports.
	RuntimeName, RuntimeVersion string
	// CgroupDriver is what RuntimeConfig reports (zero is systemd).
	CgroupDriver runtimeapi.CgroupDriver
	// DiscardLogs skips writing container log files even when the kubelet
	// gives a log path, for scale runs that never read logs.
	DiscardLogs bool
}

// Runtime is an in-memory CRI runtime. Create it with New; all methods are
// safe for concurrent use.
type Runtime struct {
	// The embedded servers answer Unimplemented for the calls a fake has no
	// meaning for: Exec, Attach and PortForward (streaming URLs), checkpoint
	// and restore, pod sandbox stats and metrics.
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer

	cfg Config

	mu         sync.Mutex
	sandboxes  map[string]*sandbox
	containers map[string]*container
	names      map[string]string // reserved sandbox and container names -> id
	ips        *ipam
	images     imageStore
	conditions []*runtimeapi.RuntimeCondition
	counters   Counters
	seq        uint64 // creation order of sandboxes and containers
	closed     bool

	// Behaviour controls, see behavior.go.
	behaviors       map[string]*Behavior // normalized image ref -> behaviour
	defaultBehavior *Behavior
	missingCmds     map[commandKey]struct{}
	createErr       func(*runtimeapi.ContainerConfig) error
	execFunc        ExecFunc

	// Events, see events.go.
	hooks   []func(Event)
	pending []Event
	subs    map[*subscriber]struct{}
	hookMu  sync.Mutex
}

// Compile-time checks that Runtime serves both CRI services.
var (
	_ runtimeapi.RuntimeServiceServer = (*Runtime)(nil)
	_ runtimeapi.ImageServiceServer   = (*Runtime)(nil)
)

// New returns a Runtime configured by cfg. It fails only on a bad PodCIDR or
// an invalid image name in cfg.Images.
func New(cfg Config) (*Runtime, error) {
	if cfg.PodCIDR == "" {
		cfg.PodCIDR = DefaultPodCIDR
	}
	if len(cfg.Registries) == 0 {
		cfg.Registries = []string{DefaultRegistry}
	}
	if cfg.RuntimeName == "" {
		cfg.RuntimeName = DefaultRuntimeName
	}
	if cfg.RuntimeVersion == "" {
		cfg.RuntimeVersion = DefaultRuntimeVersion
	}
	ips, err := newIPAM(cfg.PodCIDR)
	if err != nil {
		return nil, err
	}
	r := &Runtime{
		cfg:             cfg,
		sandboxes:       make(map[string]*sandbox),
		containers:      make(map[string]*container),
		names:           make(map[string]string),
		ips:             ips,
		images:          newImageStore(),
		defaultBehavior: &Behavior{},
		conditions: []*runtimeapi.RuntimeCondition{
			{Type: runtimeapi.RuntimeReady, Status: true},
			{Type: runtimeapi.NetworkReady, Status: true},
		},
	}
	for _, ref := range cfg.Images {
		if _, err := r.AddImage(ref); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Close stops every pending exit timer. Containers stay as they are; a
// closed Runtime arms no new timers, so Behavior.ExitAfter no longer fires.
func (r *Runtime) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, c := range r.containers {
		c.stopTimer()
	}
}

// PodCIDR returns the range sandbox IPs come from.
func (r *Runtime) PodCIDR() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ips.prefix.String()
}

// Version returns the runtime name and version and the CRI version.
func (r *Runtime) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{
		Version:           "0.1.0",
		RuntimeName:       r.cfg.RuntimeName,
		RuntimeVersion:    r.cfg.RuntimeVersion,
		RuntimeApiVersion: APIVersion,
	}, nil
}

// Status reports the RuntimeReady and NetworkReady conditions (both true
// unless changed with SetCondition) and the default runtime handler.
func (r *Runtime) Status(context.Context, *runtimeapi.StatusRequest) (*runtimeapi.StatusResponse, error) {
	r.mu.Lock()
	conds := make([]*runtimeapi.RuntimeCondition, len(r.conditions))
	for i, c := range r.conditions {
		conds[i] = &runtimeapi.RuntimeCondition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message}
	}
	r.mu.Unlock()
	return &runtimeapi.StatusResponse{
		Status:          &runtimeapi.RuntimeStatus{Conditions: conds},
		RuntimeHandlers: []*runtimeapi.RuntimeHandler{{Name: ""}},
		Features:        &runtimeapi.RuntimeFeatures{},
	}, nil
}

// SetCondition sets a runtime condition reported by Status, for example
// SetCondition(runtimeapi.NetworkReady, false, "NetworkPluginNotReady", "cni
// config uninitialized") to make a node NotReady.
func (r *Runtime) SetCondition(typ string, ok bool, reason, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := &runtimeapi.RuntimeCondition{Type: typ, Status: ok, Reason: reason, Message: message}
	for i, old := range r.conditions {
		if old.Type == typ {
			r.conditions[i] = c
			return
		}
	}
	r.conditions = append(r.conditions, c)
}

// UpdateRuntimeConfig takes the node's pod CIDR, as the kubelet sends it
// once the node has one: later sandboxes get their IP from it, running ones
// keep theirs. Of a dual-stack pair ("v4,v6") the first is used.
func (r *Runtime) UpdateRuntimeConfig(_ context.Context, req *runtimeapi.UpdateRuntimeConfigRequest) (*runtimeapi.UpdateRuntimeConfigResponse, error) {
	cidr, _, _ := strings.Cut(req.GetRuntimeConfig().GetNetworkConfig().GetPodCidr(), ",")
	if cidr == "" {
		return &runtimeapi.UpdateRuntimeConfigResponse{}, nil
	}
	ips, err := newIPAM(strings.TrimSpace(cidr))
	if err != nil {
		return nil, invalid("%v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ips.prefix == r.ips.prefix {
		return &runtimeapi.UpdateRuntimeConfigResponse{}, nil
	}
	for a := range r.ips.used {
		if ips.prefix.Contains(a) {
			ips.used[a] = struct{}{}
		}
	}
	r.ips = ips
	return &runtimeapi.UpdateRuntimeConfigResponse{}, nil
}

// RuntimeConfig reports the configured cgroup driver.
func (r *Runtime) RuntimeConfig(context.Context, *runtimeapi.RuntimeConfigRequest) (*runtimeapi.RuntimeConfigResponse, error) {
	return &runtimeapi.RuntimeConfigResponse{
		Linux: &runtimeapi.LinuxRuntimeConfiguration{CgroupDriver: r.cfg.CgroupDriver},
	}, nil
}

// newID returns a 64 hex digit id, the shape containerd uses.
func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// nowNano is the CRI timestamp form, nanoseconds since the epoch.
func nowNano() int64 { return time.Now().UnixNano() }

func notFound(kind, id string) error {
	return status.Errorf(codes.NotFound, "%s %q not found", kind, id)
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// stateName drops the CONTAINER_ / SANDBOX_ prefix for messages.
func stateName(s fmt.Stringer) string {
	n := s.String()
	if i := strings.IndexByte(n, '_'); i >= 0 {
		return n[i+1:]
	}
	return n
}

// matchLabels reports whether labels has every key and value of selector.
func matchLabels(labels, selector map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// sendChunks sends items in responses of at most n, none when items is empty,
// as the Stream* calls require.
func sendChunks[T any](items []T, n int, send func([]T) error) error {
	for len(items) > 0 {
		k := min(n, len(items))
		if err := send(items[:k]); err != nil {
			return err
		}
		items = items[k:]
	}
	return nil
}
