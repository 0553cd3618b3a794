//go:build e2e

package e2e

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
)

// Identities of the cluster's components, as the default RBAC roles and
// the node authoriser know them.
var componentUsers = map[string][]string{
	"admin":              {"kubernetes-admin", pki.GroupMasters},
	"scheduler":          {pki.UserScheduler},
	"controller-manager": {pki.UserControllerManager},
	"proxy":              {pki.UserProxy},
	"dns":                {"system:kube-dns"},
	"kubelet":            {pki.NodeUser(NodeName), pki.GroupNodes},
}

// waitAPIServer waits until the apiserver has created its CA under
// CertDir and answers /readyz over TLS verified against that CA.
func (c *Cluster) waitAPIServer() error {
	dir := pki.Dir(c.CertDir)
	if err := poll(30*time.Second, func() error {
		for _, p := range []string{dir.CertPath(pki.CAName), dir.KeyPath(pki.CAName)} {
			if _, err := os.Stat(p); err != nil {
				return err
			}
		}
		ca, err := dir.Load(pki.CAName)
		if err != nil {
			return err
		}
		c.CA = (*pki.CA)(ca)
		return nil
	}); err != nil {
		return fmt.Errorf("the apiserver's CA: %w", err)
	}
	hc := c.httpClient(nil)
	defer hc.CloseIdleConnections()
	if err := poll(30*time.Second, func() error {
		resp, err := hc.Get("https://" + c.APIAddr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("apiserver not ready: %w", err)
	}
	return nil
}

// httpClient trusts the cluster CA and presents cert when it is not nil.
func (c *Cluster) httpClient(cert *pki.KeyPair) *http.Client {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: c.CA.Pool()}
	if cert != nil {
		tc.Certificates = []tls.Certificate{cert.TLSCertificate()}
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
}

// writeKubeconfigs issues each component's client certificate from the
// cluster CA and writes its kubeconfig under <Dir>/kubeconfigs, as tug
// init does; Kubeconfig is the admin's.
func (c *Cluster) writeKubeconfigs() error {
	c.Kubeconfigs = map[string]string{}
	for name, id := range componentUsers {
		path, err := c.kubeconfigFor(name, id[0], id[1:]...)
		if err != nil {
			return err
		}
		c.Kubeconfigs[name] = path
	}
	c.Kubeconfig = c.Kubeconfigs["admin"]
	return nil
}

// kubeconfigFor writes <Dir>/kubeconfigs/<name>.conf with a client
// certificate for user in groups.
func (c *Cluster) kubeconfigFor(name, user string, groups ...string) (string, error) {
	kp, err := c.CA.IssueClient(user, groups, 24*time.Hour)
	if err != nil {
		return "", err
	}
	key, err := kp.KeyPEM()
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.Dir, "kubeconfigs", name+".conf")
	if _, err := os.Stat(path); err == nil {
		return "", fmt.Errorf("kubeconfig %s exists already", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := config.Write(path, config.KubeconfigSpec{Server: "https://" + c.APIAddr, CAData: c.CA.CertPEM(), CertData: kp.CertPEM(), KeyData: key}); err != nil {
		return "", err
	}
	return path, nil
}
