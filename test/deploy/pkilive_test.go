package deploy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/component/tlsbootstrap"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// The chart's files inside the pods, rewritten to the test's directory.
const chartPKIDir = "/etc/tugboat/pki/"

// TestChartPKIWorks runs bin/tug-apiserver and bin/tug-controller-manager
// on 127.0.0.1 with the args the chart renders and the files of its
// Secrets (0600, as the pods see them): the apiserver serves TLS with the
// chart's certificate and accepts the chart's credentials, and a kubelet's
// TLS bootstrap with the chart's bootstrap token gets a node certificate
// the controller-manager approves and signs with the chart's CA.
func TestChartPKIWorks(t *testing.T) {
	apiserverBin, cmBin := binary(t, "apiserver"), binary(t, "controller-manager")
	r := renderObjects(t)
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	if err := os.Mkdir(pkiDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for k, v := range r.secret(t, "tugboat-pki") {
		if err := os.WriteFile(filepath.Join(pkiDir, k), v, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ports := freeLoopbackPorts(t, 3)
	api := fmt.Sprintf("127.0.0.1:%d", ports[0])
	rewrite := func(args []string, set map[string]string) []string {
		var out []string
		for _, a := range args {
			name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if v, ok := set[name]; ok {
				a = "--" + name + "=" + v
			}
			out = append(out, strings.ReplaceAll(a, chartPKIDir, pkiDir+"/"))
		}
		return out
	}
	apiArgs := rewrite(r.deployments["tugboat-apiserver"].Spec.Template.Spec.Containers[0].Args, map[string]string{
		"listen-address": api, "data-dir": filepath.Join(dir, "data"), "metrics-address": fmt.Sprintf("127.0.0.1:%d", ports[1]),
	})
	start(t, apiserverBin, apiArgs, filepath.Join(dir, "apiserver.log"))

	// Every client trusts only the chart's CA and reaches 127.0.0.1 (a
	// name of the serving certificate): the chart's Service URL and the
	// admin's port-forward URL become the test's address.
	servers := strings.NewReplacer("https://tugboat-apiserver.default.svc:6443", "https://"+api, "https://127.0.0.1:6443", "https://"+api)
	local := func(kubeconfig []byte) string {
		t.Helper()
		p := filepath.Join(dir, fmt.Sprintf("kubeconfig-%d", time.Now().UnixNano()))
		if err := os.WriteFile(p, []byte(servers.Replace(string(kubeconfig))), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	waitReady(t, "https://"+api+"/readyz", r.secret(t, "tugboat-pki")["ca.crt"], filepath.Join(dir, "apiserver.log"))

	cmKubeconfig := local(r.secret(t, "tugboat-controller-manager-kubeconfig")["kubeconfig"])
	cmArgs := rewrite(r.deployments["tugboat-controller-manager"].Spec.Template.Spec.Containers[0].Args, map[string]string{
		"kubeconfig": cmKubeconfig, "metrics-address": fmt.Sprintf("127.0.0.1:%d", ports[2]),
	})
	start(t, cmBin, cmArgs, filepath.Join(dir, "controller-manager.log"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dial := func(path string) *clientset.Set {
		t.Helper()
		cfg, err := config.Load(path, "")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := config.Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return clientset.New(conn)
	}
	admin := dial(local(r.secret(t, "tugboat-admin-kubeconfig")["admin.conf"]))
	if _, err := admin.Secrets().List(ctx, &metav1.ListOptions{Namespace: "kube-system"}); err != nil {
		t.Errorf("the admin token lists kube-system's secrets: %v", err)
	}
	scheduler := dial(local(r.secret(t, "tugboat-scheduler-kubeconfig")["kubeconfig"]))
	if _, err := scheduler.Pods().List(ctx, &metav1.ListOptions{}); err != nil {
		t.Errorf("the scheduler's certificate lists pods: %v", err)
	}
	if _, err := scheduler.Secrets().List(ctx, &metav1.ListOptions{Namespace: "kube-system"}); err == nil {
		t.Error("the scheduler's certificate lists kube-system's secrets")
	}

	// The kubelet's TLS bootstrap, as the DaemonSet's kubelets do it.
	bootstrap := dial(local(r.secret(t, "tugboat-kubelet-bootstrap")["kubeconfig"]))
	creds, err := tlsbootstrap.RequestNodeCertificate(ctx, bootstrap, "chart-node", 0)
	if err != nil {
		t.Fatalf("TLS bootstrap with the chart's token: %v\n--- controller-manager ---\n%s", err, logTail(filepath.Join(dir, "controller-manager.log")))
	}
	cert, err := pki.ParseCert(creds.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.ParseCert(r.secret(t, "tugboat-pki")["ca.crt"])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || cert.Subject.CommonName != "system:node:chart-node" {
		t.Errorf("the node's certificate (%v) is not a client certificate of the chart's CA: %v", cert.Subject, err)
	}
}

// start runs bin with args, logging to logPath; it is killed by PID on cleanup.
func start(t *testing.T, bin string, args []string, logPath string) {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
}

// waitReady polls url over TLS verified with caPEM until it answers 200.
func waitReady(t *testing.T, url string, caPEM []byte, logPath string) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not ready within 30s: %v\n--- log ---\n%s", url, err, logTail(logPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func logTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// freeLoopbackPorts returns n ports free on 127.0.0.1 a moment ago.
func freeLoopbackPorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out
}
