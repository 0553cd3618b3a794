package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// TestAuditVerbs: a REST PATCH is audited once, as patch (not as the
// update it makes underneath); a refused collection DELETE as
// deletecollection.
func TestAuditVerbs(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	if _, err := s.cs.ConfigMaps().Create(ctx(t), &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Name: "patched", Namespace: "default"}}); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx(t), "PATCH", s.base+"/api/v1/namespaces/default/configmaps/patched", bytes.NewReader([]byte(`{"data":{"k":"v"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/merge-patch+json")
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %s", resp.Status)
	}
	anon := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: s.http.Transport.(*http.Transport).TLSClientConfig.Clone()}}
	anon.Transport.(*http.Transport).TLSClientConfig.Certificates = nil
	dreq, err := http.NewRequestWithContext(ctx(t), "DELETE", s.base+"/api/v1/namespaces/default/configmaps", nil)
	if err != nil {
		t.Fatal(err)
	}
	dreq.Header.Set("Authorization", "Bearer not-a-token")
	dresp, err := anon.Do(dreq)
	if err != nil {
		t.Fatal(err)
	}
	_ = dresp.Body.Close()
	if dresp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("collection DELETE with a bad token: %s, want 401", dresp.Status)
	}

	type event struct {
		Verb      string `json:"verb"`
		ObjectRef struct {
			Resource, Name string
		} `json:"objectRef"`
	}
	var patches, updates, collections int
	var log string
	poll(10*time.Second, func() bool {
		b, _ := os.ReadFile(s.auditLog())
		log = string(b)
		patches, updates, collections = 0, 0, 0
		for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
			var e event
			if json.Unmarshal([]byte(line), &e) != nil || e.ObjectRef.Resource != "configmaps" {
				continue
			}
			switch {
			case e.Verb == "patch" && e.ObjectRef.Name == "patched":
				patches++
			case e.Verb == "update" && e.ObjectRef.Name == "patched":
				updates++
			case e.Verb == "deletecollection" && e.ObjectRef.Name == "":
				collections++
			}
		}
		return patches > 0 && collections > 0
	})
	if patches != 1 || updates != 0 || collections != 1 {
		t.Fatalf("audit log has %d patch, %d update and %d deletecollection events of configmaps, want 1, 0 and 1:\n%s", patches, updates, collections, log)
	}
}
