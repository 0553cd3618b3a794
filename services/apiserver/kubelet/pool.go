package kubelet

import (
	"crypto/tls"
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	kubeletv1 "github.com/tugboat-sh/tugboat/gen/tugboat/kubelet/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// ErrClosed is returned by Pool.Client once the pool is closed (the
// apiserver is stopping).
var ErrClosed = errors.New("kubelet: connection pool is closed")

// maxMessageBytes bounds one log chunk or exec message from a kubelet.
const maxMessageBytes = 8 << 20

// Options configure a Pool.
type Options struct {
	// DialOptions are added to every connection (client metrics
	// interceptors).
	DialOptions []grpc.DialOption
	// TLS, when set, secures every connection (ClientTLS: the apiserver's
	// client certificate, the kubelets' CA); nil dials plaintext, which
	// only --insecure does.
	TLS *tls.Config
	// Registerer receives tugboat_apiserver_kubelet_connections; nil
	// registers nothing.
	Registerer prometheus.Registerer
}

// Pool keeps one gRPC client connection per kubelet address. Connections
// are made lazily by grpc-go and shared by every request to that kubelet;
// Close closes them all. The connections are TLS when Options.TLS is set.
type Pool struct {
	opts   []grpc.DialOption
	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
	closed bool
}

// NewPool returns an empty pool.
func NewPool(o Options) *Pool {
	creds := insecure.NewCredentials()
	if o.TLS != nil {
		creds = credentials.NewTLS(o.TLS)
	}
	p := &Pool{
		opts: append([]grpc.DialOption{
			grpc.WithTransportCredentials(creds),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
		}, o.DialOptions...),
		conns: map[string]*grpc.ClientConn{},
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tugboat_apiserver_kubelet_connections",
			Help: "gRPC client connections to kubelets held by the apiserver (pods/log, pods/exec).",
		}, func() float64 { return float64(p.Len()) }))
	}
	return p
}

// Client returns a KubeletService client of the kubelet at addr (host:port),
// dialling it on first use.
func (p *Pool) Client(addr string) (kubeletv1.KubeletServiceClient, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	conn, ok := p.conns[addr]
	if !ok {
		var err error
		conn, err = grpc.NewClient(addr, p.opts...)
		if err != nil {
			return nil, err
		}
		p.conns[addr] = conn
	}
	return kubeletv1.NewKubeletServiceClient(conn), nil
}

// Len is the number of connections held.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close closes every connection, which ends the streams open on them, and
// refuses later Client calls. It is idempotent.
func (p *Pool) Close() error {
	p.mu.Lock()
	conns := p.conns
	p.conns, p.closed = map[string]*grpc.ClientConn{}, true
	p.mu.Unlock()
	var errs []error
	for _, c := range conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
