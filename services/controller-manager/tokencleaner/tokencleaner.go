// Package tokencleaner is Kubernetes' token cleaner: it deletes each
// bootstrap-token Secret of kube-system once its expiration has passed,
// at that moment (a delayed requeue, not a periodic scan).
package tokencleaner

import (
	"context"
	"fmt"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Name names the controller in metrics and --controllers.
const Name = "tokencleaner"

// Controller is the token cleaner.
type Controller struct {
	*controller.Loop
	cs     *clientset.Set
	tokens informer.Lister[*corev1.Secret]
	now    func() time.Time
	log    *zap.Logger
}

// New returns the cleaner over the bootstrap-token Secrets of kube-system.
func New(cs *clientset.Set, tokens *informer.Informer[*corev1.Secret], now func() time.Time, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	if now == nil {
		now = time.Now
	}
	c := &Controller{cs: cs, tokens: tokens.Lister(), now: now, log: log}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	enqueue := func(s *corev1.Secret) { c.Enqueue(informer.Key(s.GetMetadata())) }
	tokens.AddHandler(informer.HandlerFuncs[*corev1.Secret]{
		AddFunc:    enqueue,
		UpdateFunc: func(_, s *corev1.Secret) { enqueue(s) },
	})
	return c, nil
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	s, ok := c.tokens.Get(ns, name)
	if !ok || ns != bootstraptoken.Namespace || s.GetType() != bootstraptoken.SecretType || s.GetMetadata().GetDeletionTimestamp() != nil {
		return nil
	}
	exp, ok := Expiration(s)
	if !ok {
		return nil
	}
	now := c.now()
	if now.Before(exp) {
		c.EnqueueAfter(key, exp.Sub(now))
		return nil
	}
	uid := s.GetMetadata().GetUid()
	_, err := c.cs.Secrets().Delete(ctx, &metav1.DeleteOptions{Namespace: ns, Name: name, Preconditions: &metav1.Preconditions{Uid: &uid}})
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("secret %s: delete expired bootstrap token: %w", key, err)
	}
	c.log.Info("expired bootstrap token deleted", zap.String("secret", key), zap.Time("expiration", exp))
	return nil
}

// Expiration is a bootstrap-token Secret's expiration; false when it has
// none or an unparseable one (kept: Kubernetes' cleaner leaves it too,
// and authentication refuses it).
func Expiration(s *corev1.Secret) (time.Time, bool) {
	v := string(s.GetData()[bootstraptoken.KeyExpiration])
	if v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
