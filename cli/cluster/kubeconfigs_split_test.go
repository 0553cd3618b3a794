package cluster

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
)

// TestWriteKubeconfigsSplit writes the split layout: each component's
// kubeconfig alone in a 0700 directory of its own, the CA's key only in
// the controller-manager's, and nothing of another component beside it.
func TestWriteKubeconfigsSplit(t *testing.T) {
	certDir := filepath.Join(t.TempDir(), "pki")
	ca, err := Certs(CertsOptions{CertDir: certDir})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "etc")
	o := KubeconfigOptions{CertDir: certDir, Server: "https://127.0.0.1:6443", OutDir: out, Split: true, SigningCA: true}
	paths, err := WriteKubeconfigs(o, Identities("node-1"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"admin":              {"kubeconfig"},
		"scheduler":          {"kubeconfig"},
		"controller-manager": {"ca.crt", "ca.key", "kubeconfig"},
		"proxy":              {"kubeconfig"},
		"dns":                {"kubeconfig"},
		"kubelet":            {"kubeconfig"},
	}
	if len(paths) != 8 {
		t.Errorf("paths %v, want 6 kubeconfigs and the CA's two files", paths)
	}
	dirs, err := os.ReadDir(out)
	if err != nil || len(dirs) != len(want) {
		t.Fatalf("%s holds %v, %v; want %d directories", out, dirs, err, len(want))
	}
	for comp, files := range want {
		t.Run(comp, func(t *testing.T) {
			dir := filepath.Join(out, comp)
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Fatalf("%s: %v, %v; want a 0700 directory", dir, fi, err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if strings.Join(got, ",") != strings.Join(files, ",") {
				t.Errorf("%s holds %v, want %v", dir, got, files)
			}
			fi, err := os.Stat(filepath.Join(dir, "kubeconfig"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("kubeconfig mode %v, %v; want 0600", fi, err)
			}
			kc, err := config.Load(filepath.Join(dir, "kubeconfig"), "")
			if err != nil {
				t.Fatal(err)
			}
			cert, err := pki.ParseCert(kc.CertData)
			if err != nil {
				t.Fatal(err)
			}
			var id Identity
			for _, i := range Identities("node-1") {
				if i.Component == comp {
					id = i
				}
			}
			if cert.Subject.CommonName != id.User {
				t.Errorf("%s/kubeconfig is %s's, want %s's", comp, cert.Subject.CommonName, id.User)
			}
		})
	}
	t.Run("the controller-manager's signing CA is the cluster CA", func(t *testing.T) {
		kp, err := pki.Dir(filepath.Join(out, ControllerManager)).Load(pki.CAName)
		if err != nil {
			t.Fatal(err)
		}
		if !kp.Cert.Equal(ca.Cert) {
			t.Error("controller-manager/ca.crt is not the cluster CA")
		}
	})
	t.Run("a loose copy of the CA key is rewritten 0600", func(t *testing.T) {
		key := filepath.Join(out, ControllerManager, "ca.key")
		if err := os.Chmod(key, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteKubeconfigs(o, Identities("node-1")); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("ca.key after a rerun: %v, %v; want 0600", fi, err)
		}
	})
}

// TestWriteKubeconfigsReissuesReadable: a kubeconfig group or others may
// read is not kept (its key may have leaked): it is reissued with a new
// key, 0600; one only its owner may read is kept byte for byte.
func TestWriteKubeconfigsReissuesReadable(t *testing.T) {
	certDir := filepath.Join(t.TempDir(), "pki")
	if _, err := Certs(CertsOptions{CertDir: certDir}); err != nil {
		t.Fatal(err)
	}
	for _, split := range []bool{false, true} {
		o := KubeconfigOptions{CertDir: certDir, Server: "https://127.0.0.1:6443", OutDir: t.TempDir(), Split: split}
		ids := Identities("")[:1]
		path := ids[0].Path(o.OutDir, split)
		if _, err := WriteKubeconfigs(o, ids); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name    string
			mode    os.FileMode
			reissue bool
		}{
			{"0600 kept", 0o600, false},
			{"0400 kept", 0o400, false},
			{"0640 group-readable reissued", 0o640, true},
			{"0604 others-readable reissued", 0o604, true},
			{"0644 reissued", 0o644, true},
		} {
			t.Run(filepath.Base(filepath.Dir(path))+"/"+tt.name, func(t *testing.T) {
				before, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				old, err := config.Load(path, "")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.mode); err != nil {
					t.Fatal(err)
				}
				if _, err := WriteKubeconfigs(o, ids); err != nil {
					t.Fatal(err)
				}
				after, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if tt.reissue {
					if bytes.Equal(before, after) {
						t.Error("kept a kubeconfig others could read")
					}
					if fi.Mode().Perm() != 0o600 {
						t.Errorf("reissued with mode %#o, want 0600", fi.Mode().Perm())
					}
					now, err := config.Load(path, "")
					if err != nil || bytes.Equal(old.KeyData, now.KeyData) {
						t.Error("the reissued kubeconfig kept the old key")
					}
				} else if !bytes.Equal(before, after) {
					t.Error("rewrote a kubeconfig that fits")
				}
			})
		}
	}
}

func TestWriteKubeconfigsSigningCANeedsSplit(t *testing.T) {
	certDir := filepath.Join(t.TempDir(), "pki")
	if _, err := Certs(CertsOptions{CertDir: certDir}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	_, err := WriteKubeconfigs(KubeconfigOptions{CertDir: certDir, Server: "https://127.0.0.1:6443", OutDir: out, SigningCA: true}, Identities(""))
	if err == nil || !strings.Contains(err.Error(), "--signing-ca needs --split") {
		t.Fatalf("err %v, want --signing-ca needs --split", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("something was written to %s", out)
	}
}
