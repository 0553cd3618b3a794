package command

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// benchPods is how many pods BenchmarkGetPods lists.
const benchPods = 1000

// BenchmarkGetPods times "tug get pods" over 1,000 pods end to end: the
// tug binary (built once) started as a process, reading the kubeconfig,
// listing over gRPC from the in-process apiserver, printing the table.
// The in-process variant runs the same command without the process start.
func BenchmarkGetPods(b *testing.B) {
	ns := benchNamespace(b)
	bin := filepath.Join(b.TempDir(), "tug")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/tug").CombinedOutput(); err != nil {
		b.Fatalf("build tug: %v\n%s", err, out)
	}
	b.Run("process", func(b *testing.B) {
		for b.Loop() {
			out, err := exec.Command(bin, "--kubeconfig", kubeconfig, "-n", ns, "get", "pods").Output()
			if err != nil || strings.Count(string(out), "\n") != benchPods+1 {
				b.Fatalf("tug get pods: %v, %d lines", err, strings.Count(string(out), "\n"))
			}
		}
	})
	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			if code := Main(context.Background(), []string{"--kubeconfig", kubeconfig, "-n", ns, "get", "pods"}, nil, io.Discard, os.Stderr); code != 0 {
				b.Fatalf("exit %d", code)
			}
		}
	})
}

// benchNamespace creates a namespace with benchPods pods.
func benchNamespace(b *testing.B) string {
	b.Helper()
	ctx := context.Background()
	kc, err := config.Load(kubeconfig, "")
	if err != nil {
		b.Fatal(err)
	}
	conn, err := config.Dial(ctx, kc)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	cs := clientset.New(conn)
	ns := "bench-get-pods"
	if _, err := cs.Namespaces().Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: ns}}); err != nil && !strings.Contains(err.Error(), "already exists") {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, benchPods)
	sem := make(chan struct{}, 16)
	for i := range benchPods {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: fmt.Sprintf("pod-%04d", i), Namespace: ns, Labels: map[string]string{"app": "bench"}},
				Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "sise", Image: "tugboat.local/sise:0.5.0"}}}}
			if _, err := cs.Pods().Create(ctx, pod); err != nil && !strings.Contains(err.Error(), "already exists") {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return ns
}
