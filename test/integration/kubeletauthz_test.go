package integration

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/fakeruntime"
	"github.com/tugboat-sh/tugboat/test/harness"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestKubeletUnderNodeAuthorizer: a kubelet with its node's own
// credentials (system:node:authz-1 in system:nodes) against the secure
// cluster (Node,RBAC) registers, becomes Ready, runs a pod with a secret
// volume and a config map variable, follows an update of the secret, and
// confirms the pod's deletion, without a single request the apiserver
// refuses: the secret and config map are watched by name, not listed
// cluster-wide.
func TestKubeletUnderNodeAuthorizer(t *testing.T) {
	c := startSecureCluster(t)
	ctx := harness.Context(t, 3*waitTimeout)
	const node = "authz-1"
	kubeconfig := c.kubeconfig(t, pki.NodeUser(node), pki.GroupNodes)
	cfg := nodeKubelet(t, node, kubeconfig)
	var mu sync.Mutex
	var rt *fakeruntime.Runtime
	cfg.HollowRuntimes = func(_ string, r *fakeruntime.Runtime) { mu.Lock(); rt = r; mu.Unlock() }
	// Debug: the kubelet's quiet retries of a refused list are counted below.
	core, logs := observer.New(zap.DebugLevel)
	done, stop := runKubeletLogged(t, cfg, zap.New(core))
	waitNodeReady(t, c, node, done)

	admin := c.api.Client
	if _, err := admin.Secrets().Create(ctx, &corev1.Secret{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "db"}, Data: map[string][]byte{"password": []byte("s3cret")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Secrets().Create(ctx, &corev1.Secret{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "unrelated"}, Data: map[string][]byte{"k": []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ConfigMaps().Create(ctx, &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "settings"}, Data: map[string]string{"mode": "fast"}}); err != nil {
		t.Fatal(err)
	}
	pod, err := admin.Pods().Create(ctx, &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "app"},
		Spec: &corev1.PodSpec{
			NodeName: node,
			Volumes:  []*corev1.Volume{{Name: "creds", Secret: &corev1.SecretVolumeSource{SecretName: "db"}}},
			Containers: []*corev1.Container{{
				Name: "c", Image: hollowImage,
				Env:          []*corev1.EnvVar{{Name: "MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "settings", Key: "mode"}}}},
				VolumeMounts: []*corev1.VolumeMount{{Name: "creds", MountPath: "/creds"}},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "pod app is Running", func() (bool, string) {
		p, err := admin.Pods().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "app"})
		if err != nil {
			return false, err.Error()
		}
		return p.GetStatus().GetPhase() == "Running", p.GetStatus().String()
	})
	mu.Lock()
	r := rt
	mu.Unlock()
	if r == nil {
		t.Fatal("the kubelet handed out no fake runtime")
	}
	if ct, ok := r.FindContainer("default", "app", "c"); !ok || !slices.Contains(ct.Envs, "MODE=fast") {
		t.Errorf("container c: found %v, env %q, want MODE=fast", ok, ct.Envs)
	}
	password := filepath.Join(cfg.RootDir, "hollow", node, "volumes", pod.GetMetadata().GetUid(), "volumes", "secret", "creds", "password")
	readFile := func() (bool, string) {
		b, err := os.ReadFile(password)
		if err != nil {
			return false, err.Error()
		}
		return true, string(b)
	}
	if ok, got := readFile(); !ok || got != "s3cret" {
		t.Fatalf("secret volume file: %s, want s3cret", got)
	}

	sec, err := admin.Secrets().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "db"})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data["password"] = []byte("n3w")
	if _, err := admin.Secrets().Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "the secret volume follows the update", func() (bool, string) {
		ok, got := readFile()
		return ok && got == "n3w", got
	})

	t.Run("the node's credentials read only what its pods use", func(t *testing.T) {
		nodeClient := c.client(t, kubeconfig)
		if _, err := nodeClient.Secrets().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "db"}); err != nil {
			t.Errorf("the node reads its pod's secret: %v", err)
		}
		_, err := nodeClient.Secrets().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "unrelated"})
		wantCode(t, err, codes.PermissionDenied, "the node reads a secret no pod of it uses")
		_, err = nodeClient.Secrets().List(ctx, &metav1.ListOptions{})
		wantCode(t, err, codes.PermissionDenied, "the node lists every secret")
	})
	before := forbiddenCount(t, c)
	// A refused first list is retried at once, quietly: the pod's volume
	// never failed for it.
	evs, err := admin.Events().List(ctx, &metav1.ListOptions{Namespace: "default", FieldSelector: "involvedObject.name=app,reason=FailedMount"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs.GetItems() {
		t.Errorf("event %s %s: %s", ev.GetReason(), ev.GetInvolvedObject().GetName(), ev.GetMessage())
	}

	if _, err := admin.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: "default", Name: "app"}); err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "the kubelet confirms the pod's deletion", func() (bool, string) {
		_, err := admin.Pods().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "app"})
		return status.Code(err) == codes.NotFound, errString(err)
	})
	if err := stop(); err != nil {
		t.Fatalf("kubelet: %v", err)
	}
	// Every request the apiserver refused the kubelet is one it logged.
	// The only refusal allowed is the known race of the node authoriser:
	// its view of the pods (a watch of its own) may lag the kubelet's by a
	// moment, and the first list of a secret or config map the new pod
	// uses is then refused ("no relationship found") and retried within a
	// moment, logged at debug only. A refusal that outlasts those retries
	// ("informer list failed") is an error.
	var raced int
	for _, e := range logs.All() {
		for _, v := range e.ContextMap() {
			s, ok := v.(string)
			if !ok || !strings.Contains(s, "PermissionDenied") && !strings.Contains(s, "Unauthenticated") {
				continue
			}
			if e.Message == "object list forbidden, retrying" && e.Level == zap.DebugLevel && strings.Contains(s, "no relationship found") && (strings.Contains(s, `resource "secrets"`) || strings.Contains(s, `resource "configmaps"`)) {
				raced++
				t.Logf("the node authoriser had not seen the pod yet: %s %v", e.Message, e.ContextMap())
				continue
			}
			t.Errorf("kubelet logged a refusal: %s %v", e.Message, e.ContextMap())
		}
	}
	// The subtest above made two forbidden requests on purpose.
	if before != strconv.Itoa(2+raced) {
		t.Errorf("%s requests forbidden up to the node's own checks, want its 2 and the %d raced lists", before, raced)
	}
	if after := forbiddenCount(t, c); after != before {
		t.Errorf("forbidden requests went from %s to %s while the kubelet ran on, want none", before, after)
	}
}

// forbiddenCount reads the apiserver's count of forbidden requests from
// its /metrics, as the admin.
func forbiddenCount(t *testing.T, c *secureCluster) string {
	t.Helper()
	cfg, err := config.Load(c.api.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	tc, err := config.TLSConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	resp, err := client.Get(c.api.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `tugboat_apiserver_authorization_decisions_total{decision="forbidden"} `); ok {
			return v
		}
	}
	t.Fatal("the apiserver's /metrics has no tugboat_apiserver_authorization_decisions_total{decision=\"forbidden\"}")
	return ""
}
