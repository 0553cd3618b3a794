package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/app"
	"github.com/tugboat-sh/tugboat/services/apiserver/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
)

// maxRecvBytes lets the client receive a LIST of 10,000 pods in one message.
const maxRecvBytes = 64 << 20

// cluster is an in-process apiserver, a gRPC client of it and a raw etcd
// client of its datastore.
type cluster struct {
	mode    secMode
	addr    string         // host:port serving gRPC and REST
	client  *config.Config // the admin's client config
	ca      *pki.CA        // the cluster CA of a secure cluster
	secDir  string         // its certificates and audit log
	runID   string         // makes this run's namespaces and raw keys unique
	rawRoot string         // raw baseline keys live under it, outside /registry/
	cs      *clientset.Set
	conn    *grpc.ClientConn
	etcd    *clientv3.Client
	etcdURL string
	stop    func() error
}

// startCluster runs the apiserver until stop is called. mode chooses its
// security (secure.go); plain is the foundation's: plaintext, no
// authentication, AlwaysAllow, no audit.
func startCluster(ctx context.Context, o options, mode secMode, logw io.Writer) (*cluster, error) {
	c := &cluster{mode: mode, runID: strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}
	c.rawRoot = "/bench/raw/" + c.runID + "/"
	cfg := app.DefaultConfig()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.EtcdServers = o.etcdServers
	cfg.UnsafeNoFsync = o.noFsync
	if err := c.configureSecurity(&cfg); err != nil {
		return nil, err
	}
	var dataDir string
	if len(o.etcdServers) == 0 {
		var err error
		if dataDir, err = os.MkdirTemp("", "tugboat-bench-"); err != nil {
			return nil, err
		}
		cfg.DataDir = dataDir
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		cfg.EtcdClientURL = "http://" + port
		if c.mode.secure() {
			cfg.EtcdClientURL = "https://" + port
		}
		c.etcdURL = cfg.EtcdClientURL
	} else {
		c.etcdURL = o.etcdServers[0]
	}
	ready := make(chan net.Addr, 1)
	cfg.OnReady = func(a net.Addr) { ready <- a }

	// The embedded etcd logs errors about closed listeners on every normal
	// stop; the level is raised to silence them once the run is over.
	level := zap.NewAtomicLevelAt(zap.WarnLevel)
	log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.AddSync(logw), level))
	rctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- app.Run(rctx, cfg, log) }()
	cleanupDir := func() {
		if dataDir != "" {
			_ = os.RemoveAll(dataDir)
		}
		if c.secDir != "" {
			_ = os.RemoveAll(c.secDir)
		}
	}
	select {
	case a := <-ready:
		c.addr = a.String()
	case err := <-errc:
		cancel()
		cleanupDir()
		return nil, fmt.Errorf("apiserver: %w", err)
	case <-ctx.Done():
		cancel()
		<-errc
		cleanupDir()
		return nil, ctx.Err()
	}
	if err := c.secureClient(); err != nil {
		cancel()
		<-errc
		cleanupDir()
		return nil, err
	}
	var once sync.Once
	var stopErr error
	c.stop = func() error {
		once.Do(func() {
			if c.conn != nil {
				_ = c.conn.Close()
			}
			if c.etcd != nil {
				_ = c.etcd.Close()
			}
			level.SetLevel(zap.FatalLevel)
			cancel()
			stopErr = <-errc
			cleanupDir()
		})
		return stopErr
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, errors.Join(err, c.stop())
	}
	c.conn = conn
	c.cs = clientset.New(conn)
	var etcdTLS *tls.Config
	if c.mode.secure() && len(o.etcdServers) == 0 {
		if etcdTLS, err = etcd.ClientTLS(pki.Dir(cfg.Security.CertDir).EtcdPaths()); err != nil {
			return nil, errors.Join(err, c.stop())
		}
	}
	c.etcd, err = clientv3.New(clientv3.Config{
		TLS:                etcdTLS,
		Endpoints:          []string{c.etcdURL},
		DialTimeout:        10 * time.Second,
		Logger:             zap.NewNop(),
		MaxCallRecvMsgSize: maxRecvBytes,
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("connect to etcd %s: %w", c.etcdURL, err), c.stop())
	}
	return c, nil
}

// dial opens a new gRPC connection to the apiserver through the client
// module, as the admin.
func (c *cluster) dial(ctx context.Context) (*grpc.ClientConn, error) {
	return c.dialAs(ctx, c.client)
}

// dialAs opens a new gRPC connection with cfg.
func (c *cluster) dialAs(ctx context.Context, cfg *config.Config) (*grpc.ClientConn, error) {
	return config.Dial(ctx, cfg, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvBytes)))
}

// namespace creates a namespace of this run and returns its name.
func (c *cluster) namespace(ctx context.Context, suffix string) (string, error) {
	name := "bench-" + c.runID + "-" + suffix
	_, err := c.cs.Namespaces().Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: name}})
	if err != nil {
		return "", fmt.Errorf("create namespace %s: %w", name, err)
	}
	return name, nil
}

// cleanup removes what the run wrote to a datastore that outlives it: the raw
// keys always, and on an external etcd the run's namespaces and pods, which
// are deleted directly (the run's own, uniquely named keys) because deleting
// tens of thousands of pods through the API would dominate the run.
func (c *cluster) cleanup(ctx context.Context, external bool) error {
	prefixes := []string{c.rawRoot}
	if external {
		prefixes = append(prefixes, "/registry/pods/bench-"+c.runID+"-", "/registry/namespaces/bench-"+c.runID+"-")
	}
	for _, p := range prefixes {
		if _, err := c.etcd.Delete(ctx, p, clientv3.WithPrefix()); err != nil {
			return fmt.Errorf("clean up %s: %w", p, err)
		}
	}
	return nil
}

// fillPods creates n pods named p-00000... in ns, with parallel clients.
func (c *cluster) fillPods(ctx context.Context, ns string, n int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 32)
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if _, err := c.cs.Pods().Create(ctx, newPod(ns, fmt.Sprintf("p-%05d", i))); err != nil {
					errs[w] = fmt.Errorf("create pod %d in %s: %w", i, ns, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// newPod is a representative pod: what a Deployment's pod template usually
// holds (labels, one container with ports, resources, env and a probe).
func newPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ApiVersion: "v1",
		Kind:       "Pod",
		Metadata: &metav1.ObjectMeta{
			Name:      name,
			Namespace: ns,
			Labels:    map[string]string{"app": "web", "tier": "frontend", "pod-template-hash": "7d9f8c6b5"},
			Annotations: map[string]string{
				"prometheus.io/scrape": "true",
				"prometheus.io/port":   "8080",
			},
		},
		Spec: &corev1.PodSpec{
			Containers: []*corev1.Container{{
				Name:  "web",
				Image: "registry.local/tugboat/hello:1.0",
				Args:  []string{"--listen=:8080", "--log-level=info"},
				Ports: []*corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				Env: []*corev1.EnvVar{
					{Name: "MODE", Value: "production"},
					{Name: "CACHE_SIZE", Value: "128"},
				},
				Resources: &corev1.ResourceRequirements{
					Requests: map[string]string{"cpu": "100m", "memory": "64Mi"},
					Limits:   map[string]string{"cpu": "500m", "memory": "128Mi"},
				},
				ReadinessProbe: &corev1.Probe{
					HttpGet:          &corev1.HTTPGetAction{Path: "/healthz", Port: structpb.NewNumberValue(8080)},
					PeriodSeconds:    10,
					FailureThreshold: 3,
				},
			}},
		},
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
