package integration

import (
	"fmt"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
)

// waitWaiting waits until the pod's one container waits for reason and
// returns the message.
func (c *cluster) waitWaiting(name, reason string) string {
	c.t.Helper()
	var msg string
	harness.Poll(c.t, waitTimeout, "pod "+name+" waits with "+reason, func() (bool, string) {
		cs := c.getPod(name).GetStatus().GetContainerStatuses()
		if len(cs) != 1 || cs[0].GetState().GetWaiting().GetReason() != reason {
			return false, fmt.Sprintf("container statuses %v", cs)
		}
		msg = cs[0].GetState().GetWaiting().GetMessage()
		return true, ""
	})
	return msg
}

// A missing secret key keeps the container in CreateContainerConfigError,
// a missing secret volume in ContainerCreating (FailedMount); both start
// once the secret has what they need, through the kubelet's informers.
func TestPodsWaitForTheirSecrets(t *testing.T) {
	c := startHollowCluster(t)
	ctx := harness.Context(t, waitTimeout)
	secrets := c.api.Client.Secrets()
	if _, err := secrets.Create(ctx, &corev1.Secret{ApiVersion: "v1", Kind: "Secret", Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "db"}, StringData: map[string]string{"user": "admin"}}); err != nil {
		t.Fatal(err)
	}
	c.createPod("env", image(hollowImage), func(p *corev1.Pod) {
		p.Spec.Containers[0].Env = []*corev1.EnvVar{{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "db", Key: "password"}}}}
	})
	c.createPod("vol", image(hollowImage), func(p *corev1.Pod) {
		p.Spec.Volumes = []*corev1.Volume{{Name: "key", Secret: &corev1.SecretVolumeSource{SecretName: "apikey"}}}
		p.Spec.Containers[0].VolumeMounts = []*corev1.VolumeMount{{Name: "key", MountPath: "/key"}}
	})
	if msg := c.waitWaiting("env", "CreateContainerConfigError"); msg != "env PASSWORD: couldn't find key password in Secret default/db" {
		t.Errorf("waiting message %q", msg)
	}
	if msg := c.waitWaiting("vol", "ContainerCreating"); !strings.Contains(msg, `secret "apikey" not found`) {
		t.Errorf("waiting message %q", msg)
	}
	if e := c.waitEvent("vol", "FailedMount"); !strings.Contains(e.GetMessage(), `volume "key": secret "apikey" not found`) {
		t.Errorf("FailedMount event %q", e.GetMessage())
	}

	db, err := secrets.Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "db"})
	if err != nil {
		t.Fatal(err)
	}
	db = proto.Clone(db).(*corev1.Secret)
	db.Data["password"] = []byte("s3cret")
	if _, err := secrets.Update(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Create(ctx, &corev1.Secret{ApiVersion: "v1", Kind: "Secret", Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "apikey"}, Data: map[string][]byte{"apikey.txt": []byte("k")}}); err != nil {
		t.Fatal(err)
	}
	c.waitRunning("env")
	c.waitRunning("vol")
}
