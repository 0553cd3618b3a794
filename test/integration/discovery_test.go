package integration

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/discovery"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/machinery/clusterinfo"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// createToken stores a bootstrap token's Secret as tug token create does.
func createToken(t *testing.T, c *secureCluster, ttl time.Duration, usages ...string) bootstraptoken.Token {
	t.Helper()
	tok, err := bootstraptoken.Generate()
	if err != nil {
		t.Fatal(err)
	}
	info := bootstraptoken.New(tok, ttl, time.Now(), "")
	info.Usages = usages
	if _, err := c.api.Client.Secrets().Create(harness.Context(t, waitTimeout), info.AsSecret()); err != nil {
		t.Fatal(err)
	}
	return tok
}

// waitTokenKnown waits until the apiserver's cache of bootstrap tokens
// (fed by a watch) authenticates the token: listing CSRs, which
// system:node-bootstrapper grants, stops being a 401.
func waitTokenKnown(t *testing.T, c *secureCluster, tok bootstraptoken.Token) {
	t.Helper()
	bs := c.dial(t, &config.Config{Server: c.api.URL, CAData: c.ca.CertPEM(), Token: tok.String()})
	ctx := harness.Context(t, waitTimeout)
	harness.Poll(t, waitTimeout, "the apiserver knows bootstrap token "+tok.ID, func() (bool, string) {
		_, err := bs.CertificateSigningRequests().List(ctx, &metav1.ListOptions{})
		return err == nil, status.Convert(err).Message()
	})
}

func wantCode(t *testing.T, err error, code codes.Code, what string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("%s: %v, want %v", what, err, code)
	}
}

// TestTokenDiscovery is the discovery half of tug join on a secure
// cluster: the cluster-info ConfigMap is published, the controller-
// manager's bootstrap signer signs it for each signing token, a joining
// client verifies it with the token and the CA hash and then talks to the
// apiserver as the bootstrap token, which may do nothing but certificate
// signing requests; anonymous users read cluster-info and nothing else;
// the token cleaner removes an expired token and the signer its signature.
func TestTokenDiscovery(t *testing.T) {
	c := startSecureCluster(t)
	ctx := harness.Context(t, 2*waitTimeout)
	admin := c.api.Client
	if err := discovery.Publish(ctx, admin, c.api.URL, c.ca.CertPEM()); err != nil {
		t.Fatal(err)
	}
	authOnly := createToken(t, c, time.Hour, bootstraptoken.UsageAuthentication)
	tok := createToken(t, c, time.Hour, bootstraptoken.UsageAuthentication, bootstraptoken.UsageSigning)
	harness.StartControllerManager(t, c.api, harness.ControllerManagerOptions{Configure: func(cfg *app.Config) {
		cfg.Controllers = []string{"bootstrapsigner", "tokencleaner"}
	}})
	hash := pki.Hash(c.ca.Cert)

	var res *discovery.Result
	harness.Poll(t, waitTimeout, "discovery with the signing token succeeds", func() (bool, string) {
		var err error
		res, err = discovery.Discover(ctx, c.api.Addr, tok, hash)
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	if !res.CA.Equal(c.ca.Cert) || res.Server != c.api.URL {
		t.Fatalf("discovered CA %q and server %s", res.CA.Subject.CommonName, res.Server)
	}
	cm, err := admin.ConfigMaps().Get(ctx, &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cm.GetData()[clusterinfo.JWSKey(authOnly.ID)]; ok {
		t.Errorf("token %s is not for signing but has a signature", authOnly.ID)
	}

	t.Run("wrong hash is refused", func(t *testing.T) {
		other, err := pki.NewCA("other")
		if err != nil {
			t.Fatal(err)
		}
		_, err = discovery.Discover(ctx, c.api.Addr, tok, pki.Hash(other.Cert))
		if !errors.Is(err, discovery.ErrHashMismatch) {
			t.Fatalf("Discover with another CA's hash = %v", err)
		}
	})
	t.Run("wrong token is refused", func(t *testing.T) {
		_, err := discovery.Discover(ctx, c.api.Addr, bootstraptoken.Token{ID: tok.ID, Secret: "0000000000000000"}, hash)
		if err == nil || !strings.Contains(err.Error(), "is not signed by token "+tok.ID) {
			t.Fatalf("Discover with a wrong secret = %v", err)
		}
		_, err = discovery.Discover(ctx, c.api.Addr, authOnly, hash)
		if err == nil || !strings.Contains(err.Error(), "no signature for token "+authOnly.ID) {
			t.Fatalf("Discover with a token not for signing = %v", err)
		}
	})
	t.Run("the bootstrap token may do nothing else", func(t *testing.T) {
		waitTokenKnown(t, c, tok)
		bs := c.dial(t, res.Config(c.api.Addr, tok))
		_, err := bs.Pods().List(ctx, &metav1.ListOptions{Namespace: "default"})
		wantCode(t, err, codes.PermissionDenied, "a bootstrap token lists pods")
		_, err = bs.Secrets().Get(ctx, &metav1.GetOptions{Namespace: bootstraptoken.Namespace, Name: tok.SecretName()})
		wantCode(t, err, codes.PermissionDenied, "a bootstrap token reads its own Secret")
		_, err = bs.Nodes().Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "intruder"}})
		wantCode(t, err, codes.PermissionDenied, "a bootstrap token creates a node")
	})
	t.Run("anonymous reads cluster-info only", func(t *testing.T) {
		if _, err := admin.ConfigMaps().Create(ctx, &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: clusterinfo.Namespace, Name: "private"}, Data: map[string]string{"a": "b"}}); err != nil {
			t.Fatal(err)
		}
		anon := c.dial(t, &config.Config{Server: c.api.URL, CAData: c.ca.CertPEM()})
		if _, err := anon.ConfigMaps().Get(ctx, &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name}); err != nil {
			t.Fatalf("anonymous get cluster-info: %v", err)
		}
		// Anything else without credentials is 401, as in Kubernetes
		// with anonymous auth restricted to the public endpoints.
		_, err := anon.ConfigMaps().Get(ctx, &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: "private"})
		wantCode(t, err, codes.Unauthenticated, "anonymous gets another kube-public ConfigMap")
		_, err = anon.ConfigMaps().List(ctx, &metav1.ListOptions{Namespace: clusterinfo.Namespace})
		wantCode(t, err, codes.Unauthenticated, "anonymous lists kube-public")
		_, err = anon.Pods().List(ctx, &metav1.ListOptions{})
		wantCode(t, err, codes.Unauthenticated, "anonymous lists pods")
		bad := c.dial(t, &config.Config{Server: c.api.URL, CAData: c.ca.CertPEM(), Token: "abcdef.0000000000000000"})
		_, err = bad.ConfigMaps().Get(ctx, &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name})
		wantCode(t, err, codes.Unauthenticated, "an unknown bootstrap token is not anonymous")
	})
	t.Run("an expired token is cleaned and unsigned", func(t *testing.T) {
		short := createToken(t, c, 2*time.Second, bootstraptoken.UsageAuthentication, bootstraptoken.UsageSigning)
		harness.Poll(t, waitTimeout, "the short-lived token is gone and its signature with it", func() (bool, string) {
			_, err := admin.Secrets().Get(ctx, &metav1.GetOptions{Namespace: bootstraptoken.Namespace, Name: short.SecretName()})
			if status.Code(err) != codes.NotFound {
				return false, "secret: " + status.Convert(err).Message()
			}
			cm, err := admin.ConfigMaps().Get(ctx, &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name})
			if err != nil {
				return false, err.Error()
			}
			if _, ok := cm.GetData()[clusterinfo.JWSKey(short.ID)]; ok {
				return false, "signature still there"
			}
			return true, ""
		})
		// The long-lived token is kept and still signs.
		if _, err := discovery.Discover(ctx, c.api.Addr, tok, hash); err != nil {
			t.Fatalf("discovery with the unexpired token after cleaning: %v", err)
		}
	})
}
