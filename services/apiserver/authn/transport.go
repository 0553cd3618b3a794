package authn

import (
	"context"
	"crypto/tls"
	"errors"
	"net"

	"github.com/soheilhy/cmux"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/test/bufconn"
)

// inProcessBuffer is the in-process connection's buffer per direction.
const inProcessBuffer = 1 << 20

// GatewayAuthType is the AuthType of the REST gateway's in-process connection.
const GatewayAuthType = "tugboat-gateway"

// gatewayInfo marks a connection from the REST gateway in this process:
// the only one whose user metadata is trusted.
type gatewayInfo struct{ credentials.CommonAuthInfo }

func (gatewayInfo) AuthType() string { return GatewayAuthType }

// plainInfo marks a plaintext connection (no TLS configured).
type plainInfo struct{ credentials.CommonAuthInfo }

func (plainInfo) AuthType() string { return "insecure" }

// inProcessConn is a connection accepted on the in-process listener.
type inProcessConn struct{ net.Conn }

// InProcess is the listener the REST gateway's gRPC connection reaches
// the server through, in memory: nothing outside the process can dial it.
type InProcess struct {
	l *bufconn.Listener
}

// NewInProcess makes the in-process listener.
func NewInProcess() *InProcess { return &InProcess{l: bufconn.Listen(inProcessBuffer)} }

// Listener is served by the gRPC server.
func (p *InProcess) Listener() net.Listener { return inProcessListener{p.l} }

// Dial connects to it (a grpc.WithContextDialer dialer).
func (p *InProcess) Dial(ctx context.Context, _ string) (net.Conn, error) {
	return p.l.DialContext(ctx)
}

type inProcessListener struct{ *bufconn.Listener }

func (l inProcessListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &inProcessConn{c}, nil
}

// ServerCredentials are the gRPC server's transport credentials on the one
// port: TLS is terminated by the listener (before cmux splits gRPC from
// HTTP), so the handshake here only reports what the connection is: the
// TLS state of a client's connection, or the in-process gateway.
func ServerCredentials() credentials.TransportCredentials { return serverCreds{} }

type serverCreds struct{}

func (serverCreds) ServerHandshake(c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if _, ok := c.(*inProcessConn); ok {
		return c, gatewayInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}, nil
	}
	if tc := TLSConn(c); tc != nil {
		// Behind cmux the handshake is done (cmux read the first bytes);
		// on a bare TLS listener it happens here, within the deadline
		// grpc-go sets for the handshake.
		if err := tc.Handshake(); err != nil {
			return nil, nil, err
		}
		return c, credentials.TLSInfo{State: tc.ConnectionState(), CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}, nil
	}
	return c, plainInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}}, nil
}

func (serverCreds) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("authn: server credentials cannot dial")
}

func (serverCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls"}
}

func (serverCreds) Clone() credentials.TransportCredentials { return serverCreds{} }

func (serverCreds) OverrideServerName(string) error { return nil }

// TLSConn finds the TLS connection under cmux's wrapper, nil if there is none.
func TLSConn(c net.Conn) *tls.Conn {
	for {
		switch v := c.(type) {
		case *tls.Conn:
			return v
		case *cmux.MuxConn:
			c = v.Conn
		default:
			return nil
		}
	}
}
