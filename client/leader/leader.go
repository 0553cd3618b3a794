// Package leader elects one leader among replicas of a component through a
// coordination/v1 Lease: the holder renews it every RetryPeriod, and others
// take it over once it has not been renewed for LeaseDuration.
package leader

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Config configures an election.
type Config struct {
	Client    coordinationv1.LeaseServiceClient
	Namespace string
	Name      string
	// Identity names this candidate; it must be unique among candidates.
	Identity string

	// LeaseDuration is how long a lease holds without renewal (15s).
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it
	// gives up leading (10s); shorter than LeaseDuration.
	RenewDeadline time.Duration
	// RetryPeriod is the pause between attempts to acquire or renew (2s).
	RetryPeriod time.Duration
	// ReleaseOnCancel clears the holder when ctx ends, so that another
	// candidate takes over at once instead of after LeaseDuration.
	ReleaseOnCancel bool

	// OnStartedLeading runs in its own goroutine once leading; its ctx is
	// cancelled when leadership ends, and Run returns (and releases the
	// lease) only after it has returned, so the work it does never
	// overlaps the next leader's. Required.
	OnStartedLeading func(ctx context.Context)
	// OnStoppedLeading is called when a leader stops leading.
	OnStoppedLeading func()
	// OnNewLeader is called, from Run's goroutine, whenever the observed
	// holder changes, this candidate included. It must not block.
	OnNewLeader func(identity string)

	Logger *zap.Logger
}

// DefaultIdentity is hostname_random: unique among the replicas of a
// component, and readable in the Lease.
func DefaultIdentity() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return host + "_" + hex.EncodeToString(b)
}

// ErrLeadershipLost is returned by Run when the lease could not be renewed.
var ErrLeadershipLost = errors.New("leader: leadership lost")

func (c *Config) validate() error {
	switch {
	case c.Client == nil:
		return errors.New("leader: Config.Client is nil")
	case c.Name == "" || c.Identity == "":
		return errors.New("leader: Config.Name and Config.Identity are required")
	case c.OnStartedLeading == nil:
		return errors.New("leader: Config.OnStartedLeading is required")
	}
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = 15 * time.Second
	}
	if c.RenewDeadline <= 0 {
		c.RenewDeadline = 10 * time.Second
	}
	if c.RetryPeriod <= 0 {
		c.RetryPeriod = 2 * time.Second
	}
	if c.RenewDeadline >= c.LeaseDuration {
		return fmt.Errorf("leader: RenewDeadline %v must be shorter than LeaseDuration %v", c.RenewDeadline, c.LeaseDuration)
	}
	if c.RetryPeriod >= c.RenewDeadline {
		return fmt.Errorf("leader: RetryPeriod %v must be shorter than RenewDeadline %v", c.RetryPeriod, c.RenewDeadline)
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return nil
}

// Run campaigns until it leads, leads until ctx ends or the lease cannot be
// renewed for RenewDeadline, and returns: nil when ctx ended,
// ErrLeadershipLost when renewal failed. Run again to campaign again.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	e := &elector{cfg: cfg, log: cfg.Logger.With(zap.String("lease", cfg.Namespace+"/"+cfg.Name), zap.String("identity", cfg.Identity))}
	if !e.acquire(ctx) {
		return nil
	}
	leadCtx, cancel := context.WithCancel(ctx)
	var leading sync.WaitGroup
	leading.Go(func() { cfg.OnStartedLeading(leadCtx) })
	err := e.renew(ctx)
	cancel()
	leading.Wait()
	if ctx.Err() != nil && cfg.ReleaseOnCancel {
		e.release()
	}
	if cfg.OnStoppedLeading != nil {
		cfg.OnStoppedLeading()
	}
	return err
}

type elector struct {
	cfg      Config
	log      *zap.Logger
	observed *coordinationv1.Lease // last lease read or written
	leader   string                // last observed holder
}

// acquire tries every RetryPeriod until it holds the lease or ctx ends.
func (e *elector) acquire(ctx context.Context) bool {
	for {
		if e.tryAcquireOrRenew(ctx) {
			e.log.Info("leader lease acquired")
			return true
		}
		if !sleep(ctx, jitter(e.cfg.RetryPeriod)) {
			return false
		}
	}
}

// renew renews every RetryPeriod while leading. It returns nil when ctx
// ends and ErrLeadershipLost when the lease was not renewed for
// RenewDeadline or another holder was observed.
func (e *elector) renew(ctx context.Context) error {
	last := time.Now()
	for sleep(ctx, e.cfg.RetryPeriod) {
		rctx, cancel := context.WithDeadline(ctx, last.Add(e.cfg.RenewDeadline))
		ok := e.tryAcquireOrRenew(rctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case ok:
			last = time.Now()
		case e.leader != e.cfg.Identity:
			e.log.Warn("leader lease taken by another holder", zap.String("holder", e.leader))
			return ErrLeadershipLost
		case time.Since(last) >= e.cfg.RenewDeadline:
			e.log.Warn("leader lease not renewed within the deadline", zap.Duration("renewDeadline", e.cfg.RenewDeadline))
			return ErrLeadershipLost
		}
	}
	return nil
}

// tryAcquireOrRenew makes one attempt to create, take over or renew the
// lease, and reports whether this candidate holds it afterwards.
func (e *elector) tryAcquireOrRenew(ctx context.Context) bool {
	now := time.Now()
	cur, err := e.cfg.Client.Get(ctx, &metav1.GetOptions{Namespace: e.cfg.Namespace, Name: e.cfg.Name})
	if status.Code(err) == codes.NotFound {
		created, err := e.cfg.Client.Create(ctx, e.lease(nil, now))
		if err != nil {
			if status.Code(err) != codes.AlreadyExists {
				e.log.Warn("leader lease create failed", zap.Error(err))
			}
			return false
		}
		e.observe(created)
		return true
	}
	if err != nil {
		e.log.Warn("leader lease get failed", zap.Error(err))
		return false
	}
	e.observe(cur)
	holder := cur.GetSpec().GetHolderIdentity()
	if holder != "" && holder != e.cfg.Identity && !expired(cur, now) {
		return false
	}
	updated, err := e.cfg.Client.Update(ctx, e.lease(cur, now))
	if err != nil {
		if status.Code(err) != codes.Aborted { // Aborted: another candidate won the race
			e.log.Warn("leader lease update failed", zap.Error(err))
		}
		return false
	}
	e.observe(updated)
	return true
}

// lease returns the lease held by this candidate, based on cur when it exists.
func (e *elector) lease(cur *coordinationv1.Lease, now time.Time) *coordinationv1.Lease {
	l := &coordinationv1.Lease{
		ApiVersion: "coordination.k8s.io/v1",
		Kind:       "Lease",
		Metadata:   &metav1.ObjectMeta{Namespace: e.cfg.Namespace, Name: e.cfg.Name},
		Spec:       &coordinationv1.LeaseSpec{LeaseTransitions: proto.Int32(0), AcquireTime: timestamppb.New(now)},
	}
	if cur != nil {
		l = proto.Clone(cur).(*coordinationv1.Lease)
		if l.Spec == nil {
			l.Spec = &coordinationv1.LeaseSpec{}
		}
		if l.Spec.GetHolderIdentity() != e.cfg.Identity {
			// A takeover, from another holder or from a released lease.
			l.Spec.AcquireTime = timestamppb.New(now)
			l.Spec.LeaseTransitions = proto.Int32(l.Spec.GetLeaseTransitions() + 1)
		}
	}
	l.Spec.HolderIdentity = proto.String(e.cfg.Identity)
	l.Spec.LeaseDurationSeconds = proto.Int32(durationSeconds(e.cfg.LeaseDuration))
	l.Spec.RenewTime = timestamppb.New(now)
	return l
}

// observe records the lease and reports a change of holder.
func (e *elector) observe(l *coordinationv1.Lease) {
	e.observed = l
	holder := l.GetSpec().GetHolderIdentity()
	if holder != e.leader {
		e.leader = holder
		if holder != "" && e.cfg.OnNewLeader != nil {
			e.cfg.OnNewLeader(holder)
		}
	}
}

// release clears the holder so that another candidate need not wait for
// the lease to expire.
func (e *elector) release() {
	if e.observed == nil || e.observed.GetSpec().GetHolderIdentity() != e.cfg.Identity {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RenewDeadline)
	defer cancel()
	l := proto.Clone(e.observed).(*coordinationv1.Lease)
	l.Spec.HolderIdentity = proto.String("")
	l.Spec.LeaseDurationSeconds = proto.Int32(1)
	l.Spec.RenewTime = timestamppb.Now()
	if _, err := e.cfg.Client.Update(ctx, l); err != nil {
		e.log.Warn("leader lease release failed", zap.Error(err))
		return
	}
	e.log.Info("leader lease released")
}

// expired reports whether renewTime + leaseDurationSeconds is before now.
func expired(l *coordinationv1.Lease, now time.Time) bool {
	s := l.GetSpec()
	if s.GetRenewTime() == nil {
		return true
	}
	return s.GetRenewTime().AsTime().Add(time.Duration(s.GetLeaseDurationSeconds()) * time.Second).Before(now)
}

// durationSeconds rounds d up to whole seconds, at least 1.
func durationSeconds(d time.Duration) int32 {
	return int32(max(1, (d+time.Second-1)/time.Second))
}

func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// sleep waits d and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
