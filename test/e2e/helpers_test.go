//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/manifest"
)

// seedImages maps the seeds' public images to the project's own.
var seedImages = map[string]string{
	"mhausenblas/simpleservice:0.5.0": "tugboat.local/sise:0.5.0",
	"centos:7":                        "tugboat.local/shell:latest",
	"busybox":                         "tugboat.local/shell:latest",
}

// namespace creates a namespace for one test and deletes its pods after.
func namespace(t *testing.T) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	ctx := context.Background()
	_, err := cluster.CS.Namespaces().Create(ctx, &corev1.Namespace{ApiVersion: "v1", Kind: "Namespace", Metadata: &metav1.ObjectMeta{Name: name}})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		pods, err := cluster.CS.Pods().List(ctx, &metav1.ListOptions{Namespace: name})
		if err != nil {
			return
		}
		for _, p := range pods.GetItems() {
			_, _ = cluster.CS.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: name, Name: p.GetMetadata().GetName(), GracePeriodSeconds: ptr(int32(1))})
		}
	})
	return name
}

// seedPod reads a pod manifest of seed 004 with the project's images.
func seedPod(t *testing.T, file string) *corev1.Pod {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cluster.Root, "machinery/manifest/testdata/seed004", file))
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{}
	if err := manifest.DecodeInto(data, pod); err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	for _, c := range pod.GetSpec().GetContainers() {
		if img, ok := seedImages[c.GetImage()]; ok {
			c.Image = img
		}
	}
	return pod
}

func createPod(t *testing.T, ns string, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	pod.Metadata.Namespace = ns
	out, err := cluster.CS.Pods().Create(context.Background(), pod)
	if err != nil {
		t.Fatalf("create pod %s: %v", pod.GetMetadata().GetName(), err)
	}
	return out
}

// waitPod polls the pod until cond holds, and returns it.
func waitPod(t *testing.T, ns, name string, timeout time.Duration, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	err := poll(timeout, func() error {
		p, err := cluster.CS.Pods().Get(context.Background(), &metav1.GetOptions{Namespace: ns, Name: name})
		if err != nil {
			return err
		}
		last = p
		if !cond(p) {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("pod %s/%s never %s: %v; last status: %v", ns, name, what, err, last.GetStatus())
	}
	return last
}

func running(p *corev1.Pod) bool { return p.GetStatus().GetPhase() == "Running" && allReady(p) }

func allReady(p *corev1.Pod) bool {
	cs := p.GetStatus().GetContainerStatuses()
	if len(cs) != len(p.GetSpec().GetContainers()) {
		return false
	}
	for _, c := range cs {
		if !c.GetReady() {
			return false
		}
	}
	return true
}

// execIn runs a command in a container through the apiserver's pods/exec.
func execIn(t *testing.T, ns, pod, container string, cmd ...string) (stdout, stderr string, code int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := cluster.CS.Pods().Exec(ctx)
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	start := &corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Start{Start: &corev1.PodExecStart{
		Namespace: ns, Name: pod, Container: container, Command: cmd, Stdout: true, Stderr: true,
	}}}
	if err := s.Send(start); err != nil {
		t.Fatalf("exec start: %v", err)
	}
	_ = s.CloseSend()
	var out, errb bytes.Buffer
	code = -1
	for {
		m, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("exec %v: %v", cmd, err)
		}
		out.Write(m.GetStdout())
		errb.Write(m.GetStderr())
		if x, ok := m.GetMsg().(*corev1.PodExecResponse_ExitCode); ok {
			code = x.ExitCode
		}
	}
	return out.String(), errb.String(), code
}

// logs reads a container's log through the apiserver's pods/log.
func logs(t *testing.T, opts *corev1.PodLogOptions) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := cluster.CS.Pods().Log(ctx, opts)
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	var b bytes.Buffer
	for {
		m, err := s.Recv()
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			t.Fatalf("logs of %s/%s %s: %v", opts.GetNamespace(), opts.GetName(), opts.GetContainer(), err)
		}
		b.Write(m.GetData())
	}
}

// events lists the reasons of the Events about one object.
func events(t *testing.T, ns, name string) []string {
	t.Helper()
	l, err := cluster.CS.Events().List(context.Background(), &metav1.ListOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range l.GetItems() {
		if e.GetInvolvedObject().GetName() == name {
			out = append(out, e.GetReason()+": "+e.GetMessage())
		}
	}
	return out
}

func waitEvent(t *testing.T, ns, name, reason string) string {
	t.Helper()
	var found string
	err := poll(60*time.Second, func() error {
		for _, e := range events(t, ns, name) {
			if strings.HasPrefix(e, reason+":") {
				found = e
				return nil
			}
		}
		return fmt.Errorf("no %s event", reason)
	})
	if err != nil {
		t.Fatalf("pod %s/%s: %v; events: %v", ns, name, err, events(t, ns, name))
	}
	return found
}

// containers lists the IDs of the runtime's containers whose label key has
// value, straight from the node's containerd (ctr), not through the kubelet.
func containers(t *testing.T, key, value string) []string {
	t.Helper()
	out, err := exec.Command("ctr", "--address", cluster.KubeletDir+"/containerd/containerd.sock", "-n", "k8s.io",
		"containers", "ls", "-q", fmt.Sprintf("labels.%q==%s", key, value)).CombinedOutput()
	if err != nil {
		t.Fatalf("ctr containers ls: %v: %s", err, out)
	}
	return strings.Fields(string(out))
}
