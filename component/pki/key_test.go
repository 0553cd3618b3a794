package pki

import (
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	t.Run("created 0600 with no temporary file left, then loaded", func(t *testing.T) {
		d := Dir(filepath.Join(t.TempDir(), "pki"))
		k, err := d.LoadOrCreateKey("sa")
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(d.KeyPath("sa"))
		if err != nil || st.Mode().Perm() != KeyMode {
			t.Fatalf("sa.key: %v, %v; want mode 0600", st, err)
		}
		if entries, _ := os.ReadDir(string(d)); len(entries) != 1 {
			t.Fatalf("dir holds %v, want sa.key only", entries)
		}
		again, err := d.LoadOrCreateKey("sa")
		if err != nil {
			t.Fatal(err)
		}
		if !publicEqual(k, again) {
			t.Fatal("an existing key was replaced")
		}
	})
	t.Run("racing creators all end with the same key", func(t *testing.T) {
		d := Dir(filepath.Join(t.TempDir(), "pki"))
		if err := d.ensure(); err != nil {
			t.Fatal(err)
		}
		const n = 8
		keys := make([]any, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				k, err := d.LoadOrCreateKey("sa")
				if err != nil {
					t.Error(err)
					return
				}
				keys[i] = k
			})
		}
		wg.Wait()
		for i := 1; i < n; i++ {
			if keys[i] == nil || keys[0] == nil || !publicEqual(keys[0], keys[i]) {
				t.Fatalf("caller %d got another key than caller 0", i)
			}
		}
	})
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		wantErr       string
	}{
		{"readable by group", "k", 0o640, "has mode 0640: it must be 0600 or stricter"},
		{"not a key", "junk", 0o600, "sa.key"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			d := Dir(filepath.Join(t.TempDir(), "pki"))
			if err := d.ensure(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(d.KeyPath("sa"), []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			if _, err := d.LoadOrCreateKey("sa"); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("LoadOrCreateKey = %v, want an error containing %q", err, tc.wantErr)
			}
			if b, _ := os.ReadFile(d.KeyPath("sa")); string(b) != tc.content {
				t.Fatal("the refused key was overwritten")
			}
		})
	}
}

func publicEqual(a, b any) bool {
	sa, ok1 := a.(crypto.Signer)
	sb, ok2 := b.(crypto.Signer)
	if !ok1 || !ok2 {
		return false
	}
	eq, ok := sa.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(sb.Public())
}

// TestCARace: processes creating the CA at once all end with one CA.
func TestCARace(t *testing.T) {
	d := Dir(filepath.Join(t.TempDir(), "pki"))
	if err := d.ensure(); err != nil {
		t.Fatal(err)
	}
	const n = 8
	cas := make([]*CA, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ca, err := d.LoadOrCreateCA()
			if err != nil {
				t.Error(err)
				return
			}
			cas[i] = ca
		})
	}
	wg.Wait()
	onDisk, err := d.LoadOrCreateCA()
	if err != nil {
		t.Fatal(err)
	}
	for i, ca := range cas {
		if ca == nil || !ca.Cert.Equal(onDisk.Cert) || ca.CheckKey() != nil {
			t.Fatalf("caller %d holds a CA that is not the one on disk", i)
		}
	}
}

// TestLoadOrIssueRepairs: a leaf whose files do not parse or do not match
// is issued again; a key with wide permissions is an error, not replaced.
func TestLoadOrIssueRepairs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		break_  func(t *testing.T, d Dir)
		wantErr string // "" means re-issued
	}{
		{"garbage certificate", func(t *testing.T, d Dir) { write(t, d.CertPath(AdminName), "junk") }, ""},
		{"garbage key", func(t *testing.T, d Dir) { write(t, d.KeyPath(AdminName), "junk") }, ""},
		{"certificate missing", func(t *testing.T, d Dir) { rm(t, d.CertPath(AdminName)) }, ""},
		{"key of another pair", func(t *testing.T, d Dir) {
			other, err := NewCA("x")
			if err != nil {
				t.Fatal(err)
			}
			k, _ := EncodeKey(other.Key)
			write(t, d.KeyPath(AdminName), string(k))
		}, ""},
		{"key readable by others", func(t *testing.T, d Dir) { chmod(t, d.KeyPath(AdminName), 0o644) }, "admin.key has mode 0644"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Dir(filepath.Join(t.TempDir(), "pki"))
			ca, err := d.LoadOrCreateCA()
			if err != nil {
				t.Fatal(err)
			}
			first, err := d.LoadOrCreateClient(ca, AdminName, "kubernetes-admin", []string{GroupMasters})
			if err != nil {
				t.Fatal(err)
			}
			tc.break_(t, d)
			kp, err := d.LoadOrCreateClient(ca, AdminName, "kubernetes-admin", []string{GroupMasters})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadOrCreateClient = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kp.Cert.Equal(first.Cert) {
				t.Fatal("not re-issued")
			}
			loaded, err := d.Load(AdminName)
			if err != nil || !loaded.Cert.Equal(kp.Cert) || ca.Verify(loaded.Cert, x509.ExtKeyUsageClientAuth) != nil {
				t.Fatalf("re-issued pair on disk: %v", err)
			}
		})
	}
}
