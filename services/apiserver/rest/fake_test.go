package rest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/validation"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// oldestRV is the oldest resourceVersion the fake can watch from; older ones are Gone.
const oldestRV = 2

// fakePods is an in-memory PodService with the apiserver's error behaviour.
type fakePods struct {
	corev1.UnimplementedPodServiceServer
	mu       sync.Mutex
	rv       int
	pods     map[string]*corev1.Pod
	watchers map[chan *corev1.PodWatchEvent]watchFilter
	// conflicts makes that many next updates fail as if they lost a race.
	conflicts int
}

type watchFilter struct{ namespace, name string }

func newFakePods() *fakePods {
	return &fakePods{rv: 10, pods: map[string]*corev1.Pod{}, watchers: map[chan *corev1.PodWatchEvent]watchFilter{}}
}

func key(ns, name string) string { return ns + "/" + name }

// emit sends an event to matching watchers; callers hold mu.
func (f *fakePods) emit(typ string, p *corev1.Pod) {
	for ch, fl := range f.watchers {
		if fl.namespace != "" && fl.namespace != p.GetMetadata().GetNamespace() {
			continue
		}
		if fl.name != "" && fl.name != p.GetMetadata().GetName() {
			continue
		}
		ch <- &corev1.PodWatchEvent{Type: typ, Object: proto.CloneOf(p)}
	}
}

func (f *fakePods) Create(_ context.Context, p *corev1.Pod) (*corev1.Pod, error) {
	if errs := validation.Validate(p); len(errs) > 0 {
		return nil, apierr.Invalid("Pod", p.GetMetadata().GetName(), errs)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key(p.Metadata.Namespace, p.Metadata.Name)
	if _, ok := f.pods[k]; ok {
		return nil, apierr.AlreadyExists("pods", p.Metadata.Name)
	}
	f.rv++
	p = proto.CloneOf(p)
	p.ApiVersion, p.Kind = "v1", "Pod"
	p.Metadata.ResourceVersion = strconv.Itoa(f.rv)
	p.Metadata.Uid = fmt.Sprintf("uid-%d", f.rv)
	p.Status = &corev1.PodStatus{Phase: "Pending", PodIp: "10.244.0.5"}
	f.pods[k] = p
	f.emit("ADDED", p)
	return proto.CloneOf(p), nil
}

func (f *fakePods) Get(_ context.Context, o *metav1.GetOptions) (*corev1.Pod, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pods[key(o.Namespace, o.Name)]
	if !ok {
		return nil, apierr.NotFound("pods", o.Name)
	}
	return proto.CloneOf(p), nil
}

// nameSelector reads the one field selector the fake understands.
func nameSelector(sel string) (string, error) {
	if sel == "" {
		return "", nil
	}
	name, ok := strings.CutPrefix(sel, "metadata.name=")
	if !ok || strings.Contains(name, ",") {
		return "", apierr.BadRequest("unsupported field selector %q", sel)
	}
	return name, nil
}

func (f *fakePods) List(_ context.Context, o *metav1.ListOptions) (*corev1.PodList, error) {
	name, err := nameSelector(o.FieldSelector)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l := &corev1.PodList{ApiVersion: "v1", Kind: "PodList", Metadata: &metav1.ListMeta{ResourceVersion: strconv.Itoa(f.rv)}}
	for _, p := range f.pods {
		if (o.Namespace == "" || o.Namespace == p.Metadata.Namespace) && (name == "" || name == p.Metadata.Name) {
			l.Items = append(l.Items, proto.CloneOf(p))
		}
	}
	return l, nil
}

func (f *fakePods) Watch(o *metav1.ListOptions, s grpc.ServerStreamingServer[corev1.PodWatchEvent]) error {
	if rv, err := strconv.Atoi(o.ResourceVersion); err == nil && rv < oldestRV {
		return apierr.Gone("too old resource version: %d (%d)", rv, oldestRV)
	}
	name, err := nameSelector(o.FieldSelector)
	if err != nil {
		return err
	}
	ch := make(chan *corev1.PodWatchEvent, 100)
	f.mu.Lock()
	f.watchers[ch] = watchFilter{namespace: o.Namespace, name: name}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.watchers, ch)
		f.mu.Unlock()
	}()
	if err := s.SendHeader(metadata.MD{}); err != nil {
		return err
	}
	for {
		select {
		case <-s.Context().Done():
			return nil
		case ev := <-ch:
			if err := s.Send(ev); err != nil {
				return err
			}
		}
	}
}

func (f *fakePods) Update(_ context.Context, p *corev1.Pod) (*corev1.Pod, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key(p.GetMetadata().GetNamespace(), p.GetMetadata().GetName())
	old, ok := f.pods[k]
	if !ok {
		return nil, apierr.NotFound("pods", p.GetMetadata().GetName())
	}
	if f.conflicts > 0 {
		f.conflicts--
		return nil, apierr.StaleWrite("pods", p.Metadata.Name)
	}
	if rv := p.Metadata.ResourceVersion; rv != "" && rv != old.Metadata.ResourceVersion {
		return nil, apierr.StaleWrite("pods", p.Metadata.Name)
	}
	f.rv++
	p = proto.CloneOf(p)
	p.ApiVersion, p.Kind = "v1", "Pod"
	p.Metadata.ResourceVersion = strconv.Itoa(f.rv)
	p.Metadata.Uid = old.Metadata.Uid
	p.Status = old.Status
	f.pods[k] = p
	f.emit("MODIFIED", p)
	return proto.CloneOf(p), nil
}

func (f *fakePods) Delete(_ context.Context, o *metav1.DeleteOptions) (*corev1.Pod, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key(o.Namespace, o.Name)
	p, ok := f.pods[k]
	if !ok {
		return nil, apierr.NotFound("pods", o.Name)
	}
	if o.GetPropagationPolicy() != "" && o.GetPropagationPolicy() != "Background" && o.GetPropagationPolicy() != "Foreground" && o.GetPropagationPolicy() != "Orphan" {
		return nil, apierr.BadRequest("invalid propagationPolicy %q", o.GetPropagationPolicy())
	}
	delete(f.pods, k)
	f.rv++
	p.Metadata.ResourceVersion = strconv.Itoa(f.rv)
	f.emit("DELETED", p)
	return proto.CloneOf(p), nil
}

// fakeDeployments serves only Watch: one ADDED event, then waits.
type fakeDeployments struct {
	appsv1.UnimplementedDeploymentServiceServer
}

func (fakeDeployments) Watch(o *metav1.ListOptions, s grpc.ServerStreamingServer[appsv1.DeploymentWatchEvent]) error {
	d := &appsv1.Deployment{ApiVersion: "apps/v1", Kind: "Deployment",
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: o.Namespace, ResourceVersion: "7"}}
	if err := s.Send(&appsv1.DeploymentWatchEvent{Type: "ADDED", Object: d}); err != nil {
		return err
	}
	<-s.Context().Done()
	return nil
}

// harness is a gRPC server with the fakes, dialled by the REST handler,
// served over HTTPS that requires a client certificate of its CA, as the
// apiserver's default does.
type harness struct {
	pods *fakePods
	http *httptest.Server
	// ca signed the serving certificate and the admin's.
	ca *pki.CA
	// admin is the admin's client certificate and key (PEM).
	adminCert, adminKey []byte
	// client is an HTTPS client presenting the admin's certificate.
	client *http.Client
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	gs := grpc.NewServer()
	pods := newFakePods()
	corev1.RegisterPodServiceServer(gs, pods)
	appsv1.RegisterDeploymentServiceServer(gs, fakeDeployments{})
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)

	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h, err := NewHandler(ctx, conn, Options{ServerAddress: "127.0.0.1:6443", Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	ca, err := pki.NewCA("")
	if err != nil {
		t.Fatal(err)
	}
	serving, err := ca.IssueServing("tug-apiserver", pki.APIServerNames(nil, nil), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ca.IssueClient("kubernetes-admin", []string{pki.GroupMasters}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	adminKey, err := admin.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{serving.TLSCertificate()},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool(),
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion: tls.VersionTLS12, RootCAs: ca.Pool(), Certificates: []tls.Certificate{admin.TLSCertificate()},
	}}}
	t.Cleanup(client.CloseIdleConnections)
	return &harness{pods: pods, http: srv, ca: ca, adminCert: admin.CertPEM(), adminKey: adminKey, client: client}
}
