package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/etcd"
	"google.golang.org/grpc/codes"
)

// etcdBinary is Debian's etcd (package etcd-server, installed by hack/deps.sh).
const etcdBinary = "/usr/bin/etcd"

// startExternalEtcd runs etcd as a child process on loopback ports in a
// temporary dir, waits until /health says it is healthy and kills it by
// PID on t.Cleanup. It returns its client URL.
func startExternalEtcd(t *testing.T) string { return startExternalEtcdTLS(t, nil) }

// startExternalEtcdTLS is startExternalEtcd; with files, etcd serves https
// with client certificates of files' CA (its serving pair files' server
// pair) and the health check presents files' client pair.
func startExternalEtcdTLS(t *testing.T, files *pki.EtcdFiles) string {
	t.Helper()
	if _, err := os.Stat(etcdBinary); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (run hack/deps.sh): %v", etcdBinary, err)
		}
		t.Skipf("%s not installed (run hack/deps.sh as root to install etcd-server): %v", etcdBinary, err)
	}
	dir := t.TempDir()
	scheme := "http://"
	var tlsArgs []string
	client := &http.Client{Timeout: 2 * time.Second}
	if files != nil {
		scheme = "https://"
		tlsArgs = []string{"--cert-file", files.ServerCertFile, "--key-file", files.ServerKeyFile, "--trusted-ca-file", files.CAFile, "--client-cert-auth",
			"--peer-cert-file", files.ServerCertFile, "--peer-key-file", files.ServerKeyFile, "--peer-trusted-ca-file", files.CAFile, "--peer-client-cert-auth"}
		tlsCfg, err := etcd.ClientTLS(*files)
		if err != nil {
			t.Fatal(err)
		}
		client.Transport = &http.Transport{TLSClientConfig: tlsCfg}
	}
	clientURL, peerURL := scheme+freeAddr(t), scheme+freeAddr(t)
	var out bytes.Buffer
	cmd := exec.Command(etcdBinary,
		"--name", "external",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "external="+peerURL,
		"--initial-cluster-state", "new",
		"--unsafe-no-fsync",
		"--log-level", "warn",
	)
	cmd.Args = append(cmd.Args, tlsArgs...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", etcdBinary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("etcd (pid %d) did not exit after kill", cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("etcd output:\n%s", out.String())
		}
	})

	var last string
	healthy := poll(30*time.Second, func() bool {
		select {
		case err := <-exited:
			exited <- err
			last = "exited: " + errString(err)
			return true
		default:
		}
		resp, err := client.Get(clientURL + "/health")
		if err != nil {
			last = err.Error()
			return false
		}
		defer resp.Body.Close()
		var h struct{ Health string }
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			last = err.Error()
			return false
		}
		last = "health " + h.Health
		return h.Health == "true"
	})
	if !healthy || last != "health true" {
		t.Fatalf("etcd at %s not healthy: %s\n%s", clientURL, last, out.String())
	}
	return clientURL
}

func errString(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// TestExternalEtcd runs the apiserver against a separate etcd process.
func TestExternalEtcd(t *testing.T) {
	t.Parallel()
	url := startExternalEtcd(t)
	s := start(t, options{etcdServers: []string{url}})

	// The system namespaces were written to the external etcd.
	if n := s.etcdState(t).keys; n < 2 {
		t.Fatalf("external etcd holds %d keys under /registry/, want the system namespaces", n)
	}
	s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/kube-system", nil)

	rv := s.listRV(t, "default")
	w := s.watchGRPC(t, &metav1.ListOptions{Namespace: "default", ResourceVersion: rv})
	s.churn(t, "default", "w")
	wantEvents(t, func() (string, string, string, string) {
		ev := w.next(t)
		m := ev.GetObject().GetMetadata()
		return ev.GetType(), m.GetName(), m.GetLabels()["step"], m.GetResourceVersion()
	}, churnEvents)

	created := s.must(t, http.StatusCreated, "POST", "/apis/apps/v1/namespaces/default/deployments", deploymentJSON("ext", 1))
	got, err := s.cs.Deployments().Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "ext"})
	if err != nil || got.GetMetadata().GetUid() != str(created, "metadata", "uid") {
		t.Fatalf("gRPC get of a REST-created deployment: %v, %v", got.GetMetadata(), err)
	}
	resp, err := s.etcd(t).Get(ctx(t), "/registry/deployments/default/ext")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("the deployment is not in the external etcd: %v, %v", resp, err)
	}
	if _, err := s.cs.Deployments().Delete(ctx(t), &metav1.DeleteOptions{Namespace: "default", Name: "ext"}); err != nil {
		t.Fatal(err)
	}
	_, err = s.cs.Deployments().Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "ext"})
	wantCode(t, err, codes.NotFound, "get after delete")
}

// TestExternalEtcdTLS runs the apiserver against an external etcd that
// serves https with client-certificate authentication, through
// --etcd-cafile, --etcd-certfile and --etcd-keyfile.
func TestExternalEtcdTLS(t *testing.T) {
	t.Parallel()
	files, err := pki.Dir(filepath.Join(t.TempDir(), "etcd-pki")).LoadOrCreateEtcd()
	if err != nil {
		t.Fatal(err)
	}
	url := startExternalEtcdTLS(t, &files)
	s := start(t, options{etcdServers: []string{url}, etcdTLS: &files})
	if n := s.etcdState(t).keys; n < 2 {
		t.Fatalf("external etcd holds %d keys under /registry/, want the system namespaces", n)
	}
	s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/kube-system", nil)
}
