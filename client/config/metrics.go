package config

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// Metrics counts and times the RPCs of a client connection:
// tugboat_client_requests_total{method,code} and
// tugboat_client_request_duration_seconds{method}. Streams (watches) are
// counted when they end but not timed, since a watch lives for minutes.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics creates client metrics registered on reg; a nil reg registers
// nothing. Registering twice on one registry reuses the first collectors,
// so several connections of one process share them.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tugboat_client_requests_total",
			Help: "RPCs made to the apiserver, by full method and gRPC code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tugboat_client_request_duration_seconds",
			Help:    "Latency of unary RPCs to the apiserver, by full method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"method"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

// DialOptions returns the dial options that install m's interceptors:
// Dial(ctx, cfg, m.DialOptions()...).
func (m *Metrics) DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(m.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(m.StreamClientInterceptor()),
	}
}

// UnaryClientInterceptor counts and times unary RPCs.
func (m *Metrics) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		err := invoker(ctx, method, req, reply, cc, opts...)
		m.duration.WithLabelValues(method).Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(method, status.Code(err).String()).Inc()
		return err
	}
}

// StreamClientInterceptor counts streams by the code they end with.
func (m *Metrics) StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			m.requests.WithLabelValues(method, status.Code(err).String()).Inc()
			return nil, err
		}
		return &countedStream{ClientStream: s, done: func(err error) {
			m.requests.WithLabelValues(method, status.Code(err).String()).Inc()
		}}, nil
	}
}

// countedStream reports the first error RecvMsg returns (io.EOF is OK).
type countedStream struct {
	grpc.ClientStream
	once sync.Once
	done func(error)
}

func (s *countedStream) RecvMsg(msg any) error {
	err := s.ClientStream.RecvMsg(msg)
	if err != nil {
		s.once.Do(func() {
			if errors.Is(err, io.EOF) {
				s.done(nil)
			} else {
				s.done(err)
			}
		})
	}
	return err
}
