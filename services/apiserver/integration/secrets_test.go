package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/services/apiserver/app"
	"github.com/tugboat-sh/tugboat/services/apiserver/encryption"
	"go.uber.org/zap"
)

const apikey = "A19fh68B001j"

func secretJSON(name string) obj {
	return obj{
		"apiVersion": "v1", "kind": "Secret", "metadata": obj{"name": name},
		"data":       obj{"user": base64.StdEncoding.EncodeToString([]byte("admin"))},
		"stringData": obj{"apikey.txt": apikey},
	}
}

// rawSecret reads a secret's value straight from etcd.
func rawSecret(t *testing.T, s *server, ns, name string) []byte {
	t.Helper()
	resp, err := s.etcd(t).Get(ctx(t), "/registry/secrets/"+ns+"/"+name)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("etcd get secret %s/%s: %v (%d keys)", ns, name, err, len(resp.Kvs))
	}
	return resp.Kvs[0].Value
}

func assertCiphertext(t *testing.T, raw []byte, keyID string) {
	t.Helper()
	if id, ok := encryption.KeyID(raw); !ok || id != keyID {
		t.Errorf("stored value sealed with %q (sealed: %v), want key %q", id, ok, keyID)
	}
	for _, plain := range []string{apikey, base64.StdEncoding.EncodeToString([]byte(apikey)), "admin"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Errorf("etcd holds %q in the clear", plain)
		}
	}
}

// TestSecretsEncryptedAtRest: the API shows a secret's data (stringData
// merged, base64 in JSON), etcd only ciphertext; the key file is created
// 0600 on first start; a new key on top of the file re-encrypts the
// stored secrets at the next start.
func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := start(t, options{dataDir: dir})
	keyFile := filepath.Join(dir, "encryption-keys")
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v, mode %v; want it created 0600", keyFile, err, st.Mode())
	}
	keys, err := encryption.LoadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/default/secrets", secretJSON("apikey"))
	got := s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/default/secrets/apikey", nil)
	if v := str(got, "data", "apikey.txt"); v != base64.StdEncoding.EncodeToString([]byte(apikey)) {
		t.Errorf("data[apikey.txt] = %q, want base64 of the stringData", v)
	}
	if v := str(got, "data", "user"); v != base64.StdEncoding.EncodeToString([]byte("admin")) {
		t.Errorf("data[user] = %q", v)
	}
	if get(got, "stringData") != nil || str(got, "type") != "Opaque" {
		t.Errorf("stringData %v kept or type %q not Opaque", get(got, "stringData"), str(got, "type"))
	}
	list := s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/default/secrets", nil)
	if n := names(list); len(n) != 1 || n[0] != "apikey" {
		t.Errorf("list = %v", n)
	}
	assertCiphertext(t, rawSecret(t, s, "default", "apikey"), keys[0].ID)

	// Over 1 MiB: refused, nothing written.
	before := s.etcdState(t)
	big := secretJSON("big")
	big["stringData"] = obj{"blob": strings.Repeat("x", 1<<20+1)}
	if st := s.do(t, "POST", "/api/v1/namespaces/default/secrets", big).status(t); st.Code != http.StatusUnprocessableEntity {
		t.Errorf("a secret over 1 MiB answered %d %s, want 422", st.Code, st.Message)
	}
	if after := s.etcdState(t); after != before {
		t.Errorf("the refused secret changed etcd: %v -> %v", before, after)
	}
	s.stop()

	// Rotation: a new key on top seals every stored secret again.
	newKey, err := encryption.GenerateKey(time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(keyFile)
	if err := os.WriteFile(keyFile, append([]byte(newKey.Line()+"\n"), old...), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := start(t, options{dataDir: dir})
	assertCiphertext(t, rawSecret(t, s2, "default", "apikey"), newKey.ID)
	got = s2.must(t, http.StatusOK, "GET", "/api/v1/namespaces/default/secrets/apikey", nil)
	if v := str(got, "data", "apikey.txt"); v != base64.StdEncoding.EncodeToString([]byte(apikey)) {
		t.Errorf("after rotation data[apikey.txt] = %q", v)
	}
	s2.stop()

	// The wrong key: refused at start.
	wrong := encryption.Key{ID: newKey.ID, Bytes: bytes.Repeat([]byte{7}, 32)}
	if err := os.WriteFile(keyFile, []byte(wrong.Line()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := runToError(t, dir); err == nil || !strings.Contains(err.Error(), "does not decrypt with the encryption key file") {
		t.Errorf("start with the wrong key: %v", err)
	}
	// No key file: refused, and no new key is made over sealed secrets.
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if err := runToError(t, dir); err == nil || !strings.Contains(err.Error(), "does not exist: restore it") {
		t.Errorf("start without the key file: %v", err)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Errorf("a key file was created over sealed secrets: %v", err)
	}
}

// runToError runs the apiserver on dir and wants it to return an error
// before it serves.
func runToError(t *testing.T, dir string) error {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.UnsafeNoFsync = true
	cfg.CompactionInterval = 0
	cfg.EtcdClientURL = "https://" + freeAddr(t)
	cfg.EtcdPeerURL = "https://" + freeAddr(t)
	served := make(chan struct{}, 1)
	cfg.OnReady = func(net.Addr) { served <- struct{}{} }
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg, zap.NewNop()) }()
	select {
	case err := <-done:
		return err
	case <-served:
		cancel()
		<-done
		t.Error("the apiserver served")
		return nil
	}
}
