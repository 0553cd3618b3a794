package cri

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDialUnknownEndpointSaysSo(t *testing.T) {
	sock := "unix://" + filepath.Join(t.TempDir(), "nothing.sock")
	start := time.Now()
	_, _, err := Dial(context.Background(), sock, 500*time.Millisecond)
	if err == nil {
		t.Fatal("dialled a socket nobody serves")
	}
	if !strings.Contains(err.Error(), sock) || !strings.Contains(err.Error(), "does not answer CRI v1") {
		t.Errorf("error %q does not name the endpoint and the problem", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v: the timeout was not honoured", time.Since(start))
	}
}

func TestDialRejectsNonUnixEndpoints(t *testing.T) {
	for _, ep := range []string{"/run/containerd/containerd.sock", "tcp://127.0.0.1:1"} {
		if _, _, err := Dial(context.Background(), ep, time.Second); err == nil || !strings.Contains(err.Error(), "unix://") {
			t.Errorf("%s: %v", ep, err)
		}
	}
}
