package integration

import (
	"testing"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/test/harness"
)

// secureCluster is an apiserver with TLS from a --cert-dir, client
// certificates, bootstrap tokens, anonymous requests and Node,RBAC, as
// tug init runs it: harness.StartAPIServer, with the CA at hand.
type secureCluster struct {
	// api is the admin's view (system:masters), for the harness.
	api *harness.APIServer
	ca  *pki.CA
	// dir holds the cert dir, <dir>/pki.
	dir string
}

// startSecureCluster runs it in-process on a free loopback port; it stops
// on t.Cleanup.
func startSecureCluster(t *testing.T) *secureCluster {
	t.Helper()
	api := harness.StartAPIServer(t)
	return &secureCluster{api: api, ca: api.CA, dir: api.DataDir}
}

// kubeconfig writes a kubeconfig with a client certificate for user.
func (c *secureCluster) kubeconfig(t *testing.T, user string, groups ...string) string {
	t.Helper()
	return c.api.KubeconfigFor(t, user, groups...)
}

// client dials with a kubeconfig file; the connection closes on cleanup.
func (c *secureCluster) client(t *testing.T, kubeconfig string) *clientset.Set {
	t.Helper()
	return c.api.ClientFor(t, kubeconfig)
}

// dial connects with cfg; the connection closes on cleanup.
func (c *secureCluster) dial(t *testing.T, cfg *config.Config) *clientset.Set {
	t.Helper()
	return c.api.Dial(t, cfg)
}
