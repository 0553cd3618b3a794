package pki

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	d := Dir(filepath.Join(t.TempDir(), "pki"))
	ca, err := d.LoadOrCreateCA()
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{string(d): DirMode, d.KeyPath(CAName): KeyMode, d.CertPath(CAName): CertMode}
	names := APIServerNames(nil, nil)
	srv, err := d.LoadOrCreateServing(ca, APIServerName, apiserverCommonName, names)
	if err != nil {
		t.Fatal(err)
	}
	modes[d.KeyPath(APIServerName)] = KeyMode
	admin, err := d.LoadOrCreateClient(ca, AdminName, "kubernetes-admin", []string{GroupMasters})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range modes {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %#o, want %#o", p, got, want)
		}
	}

	t.Run("second load returns the same", func(t *testing.T) {
		ca2, err := d.LoadOrCreateCA()
		if err != nil {
			t.Fatal(err)
		}
		if !ca2.Cert.Equal(ca.Cert) {
			t.Fatal("CA was recreated")
		}
		srv2, err := d.LoadOrCreateServing(ca2, APIServerName, apiserverCommonName, names)
		if err != nil || !srv2.Cert.Equal(srv.Cert) {
			t.Fatalf("serving reissued (err %v)", err)
		}
		admin2, err := d.LoadOrCreateClient(ca2, AdminName, "kubernetes-admin", []string{GroupMasters})
		if err != nil || !admin2.Cert.Equal(admin.Cert) {
			t.Fatalf("admin reissued (err %v)", err)
		}
	})
	t.Run("new SAN reissues", func(t *testing.T) {
		more := APIServerNames([]string{"cp.example"}, []net.IP{net.ParseIP("192.0.2.9")})
		srv3, err := d.LoadOrCreateServing(ca, APIServerName, apiserverCommonName, more)
		if err != nil {
			t.Fatal(err)
		}
		if srv3.Cert.Equal(srv.Cert) || srv3.Cert.VerifyHostname("cp.example") != nil {
			t.Fatal("serving certificate not reissued with the new name")
		}
	})
	t.Run("other group reissues", func(t *testing.T) {
		kp, err := d.LoadOrCreateClient(ca, AdminName, "kubernetes-admin", []string{"other"})
		if err != nil {
			t.Fatal(err)
		}
		if kp.Cert.Subject.Organization[0] != "other" {
			t.Fatalf("O = %v", kp.Cert.Subject.Organization)
		}
	})
}

func TestLoadOrCreateRefuses(t *testing.T) {
	tests := []struct {
		name    string
		break_  func(t *testing.T, d Dir)
		wantErr string
	}{
		{"key readable by others", func(t *testing.T, d Dir) { chmod(t, d.KeyPath(CAName), 0o644) }, "ca.key has mode 0644: it must be 0600 or stricter"},
		{"key readable by group", func(t *testing.T, d Dir) { chmod(t, d.KeyPath(CAName), 0o640) }, "ca.key has mode 0640"},
		{"dir writable by others", func(t *testing.T, d Dir) { chmod(t, string(d), 0o777) }, "has mode 0777: it must not be writable by group or others"},
		{"key missing", func(t *testing.T, d Dir) { rm(t, d.KeyPath(CAName)) }, "ca.key: no such file"},
		{"garbage certificate", func(t *testing.T, d Dir) { write(t, d.CertPath(CAName), "junk") }, "ca.crt: no PEM certificate found"},
		{"key of another pair", func(t *testing.T, d Dir) {
			other, err := NewCA("x")
			if err != nil {
				t.Fatal(err)
			}
			k, _ := EncodeKey(other.Key)
			write(t, d.KeyPath(CAName), string(k))
		}, "does not hold the private key of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Dir(filepath.Join(t.TempDir(), "pki"))
			if _, err := d.LoadOrCreateCA(); err != nil {
				t.Fatal(err)
			}
			tt.break_(t, d)
			_, err := d.LoadOrCreateCA()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadOrCreateCA = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func chmod(t *testing.T, p string, m os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

func rm(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
