// Package bootstrapsigner is Kubernetes' bootstrap signer: it keeps one
// jws-kubeconfig-<token-id> key in the kube-public/cluster-info ConfigMap
// for every bootstrap token marked usage-bootstrap-signing and not
// expired, a detached JWS over the ConfigMap's kubeconfig key, and removes
// the keys of tokens that are gone, expired or no longer for signing. A
// joining node that holds a token checks the kubeconfig with it
// (component/discovery).
package bootstrapsigner

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/machinery/clusterinfo"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// Name names the controller in metrics and --controllers.
const Name = "bootstrapsigner"

// key is the one key the loop syncs.
const key = clusterinfo.Namespace + "/" + clusterinfo.Name

// Controller is the bootstrap signer.
type Controller struct {
	*controller.Loop
	cs         *clientset.Set
	tokens     informer.Lister[*corev1.Secret]
	configMaps informer.Lister[*corev1.ConfigMap]
	now        func() time.Time
	log        *zap.Logger
}

// New returns the signer. tokens watches the bootstrap-token Secrets of
// kube-system, configMaps the cluster-info ConfigMap of kube-public.
func New(cs *clientset.Set, tokens *informer.Informer[*corev1.Secret], configMaps *informer.Informer[*corev1.ConfigMap],
	now func() time.Time, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	if now == nil {
		now = time.Now
	}
	c := &Controller{cs: cs, tokens: tokens.Lister(), configMaps: configMaps.Lister(), now: now, log: log}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	tokens.AddHandler(informer.HandlerFuncs[*corev1.Secret]{
		AddFunc:    func(*corev1.Secret) { c.Enqueue(key) },
		UpdateFunc: func(_, _ *corev1.Secret) { c.Enqueue(key) },
		DeleteFunc: func(*corev1.Secret) { c.Enqueue(key) },
	})
	configMaps.AddHandler(informer.HandlerFuncs[*corev1.ConfigMap]{
		AddFunc:    func(cm *corev1.ConfigMap) { c.observe(cm) },
		UpdateFunc: func(_, cm *corev1.ConfigMap) { c.observe(cm) },
	})
	return c, nil
}

func (c *Controller) observe(cm *corev1.ConfigMap) {
	if cm.GetMetadata().GetNamespace() == clusterinfo.Namespace && cm.GetMetadata().GetName() == clusterinfo.Name {
		c.Enqueue(key)
	}
}

func (c *Controller) sync(ctx context.Context, _ string) error {
	cm, ok := c.configMaps.Get(clusterinfo.Namespace, clusterinfo.Name)
	if !ok {
		return nil
	}
	now := c.now()
	want, next := Signatures(cm.GetData()[clusterinfo.KeyKubeconfig], c.tokens.List(labels.Everything()), now)
	if !next.IsZero() {
		// Drop the signature when its token expires.
		c.EnqueueAfter(key, next.Sub(now))
	}
	data := Apply(cm.GetData(), want)
	if maps.Equal(data, cm.GetData()) {
		return nil
	}
	upd := proto.Clone(cm).(*corev1.ConfigMap)
	upd.Data = data
	if _, err := c.cs.ConfigMaps().Update(ctx, upd); err != nil {
		if status.Code(err) == codes.NotFound {
			return nil
		}
		return fmt.Errorf("configmap %s: update signatures: %w", key, err)
	}
	c.log.Info("cluster-info signatures updated", zap.Strings("tokens", slices.Sorted(maps.Keys(want))))
	return nil
}

// Signatures returns the JWS key and value of every token in secrets that
// may sign (valid, marked for signing, unexpired at now) over kubeconfig,
// and the earliest expiry among them (zero when none expires). An empty
// kubeconfig gets no signatures.
func Signatures(kubeconfig string, secrets []*corev1.Secret, now time.Time) (map[string]string, time.Time) {
	out := map[string]string{}
	var next time.Time
	if kubeconfig == "" {
		return out, next
	}
	for _, s := range secrets {
		if s.GetMetadata().GetNamespace() != bootstraptoken.Namespace || s.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		info, err := bootstraptoken.FromSecret(s)
		if err != nil || !slices.Contains(info.Usages, bootstraptoken.UsageSigning) || info.Expired(now) {
			continue
		}
		out[clusterinfo.JWSKey(info.ID)] = clusterinfo.Sign([]byte(kubeconfig), info.Token)
		if !info.Expires.IsZero() && (next.IsZero() || info.Expires.Before(next)) {
			next = info.Expires
		}
	}
	return out, next
}

// Apply returns data with its jws-kubeconfig-* keys replaced by want.
func Apply(data, want map[string]string) map[string]string {
	out := make(map[string]string, len(data)+len(want))
	for k, v := range data {
		if !strings.HasPrefix(k, clusterinfo.JWSKeyPrefix) {
			out[k] = v
		}
	}
	maps.Copy(out, want)
	return out
}
