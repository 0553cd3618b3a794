// Package pki is the cluster's public key infrastructure: a cluster CA
// (ECDSA P-256, which kubectl, Go's TLS and gRPC all accept), serving
// certificates with the apiserver's SANs, client certificates whose CN is the
// user and whose O are the groups (as Kubernetes reads them), kubeadm's CA
// hash, and the files under a data dir's pki/ (load-or-create, private keys
// 0600, refused when their permissions are wider).
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"
)

// Validity of what this package issues.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	CertValidity = 365 * 24 * time.Hour
	// clockSkew back-dates NotBefore so a peer whose clock is a little
	// behind accepts a fresh certificate.
	clockSkew = 5 * time.Minute
)

// Well-known users and groups, as Kubernetes names them.
const (
	GroupMasters           = "system:masters"
	GroupNodes             = "system:nodes"
	UserScheduler          = "system:kube-scheduler"
	UserControllerManager  = "system:kube-controller-manager"
	UserProxy              = "system:kube-proxy"
	NodeUserPrefix         = "system:node:"
	ServiceIP              = "10.96.0.1"
	ClusterDomain          = "cluster.local"
	defaultCACommonName    = "tugboat-ca"
	apiserverCommonName    = "tug-apiserver"
	pemTypeCertificate     = "CERTIFICATE"
	pemTypeECPrivateKey    = "EC PRIVATE KEY"
	pemTypePKCS8PrivateKey = "PRIVATE KEY"
)

// KeyPair is a certificate with its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// CA is the cluster's certificate authority.
type CA KeyPair

// NewCA creates a self-signed CA named commonName (tugboat-ca when empty).
func NewCA(commonName string) (*CA, error) {
	if commonName == "" {
		commonName = defaultCACommonName
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// ServingNames are the SANs of a serving certificate.
type ServingNames struct {
	DNSNames []string
	IPs      []net.IP
}

// APIServerNames are the apiserver's SANs: localhost, 127.0.0.1, the
// kubernetes Service's IP and names, plus the extra names and addresses
// (node addresses, a public host name).
func APIServerNames(extraDNS []string, extraIPs []net.IP) ServingNames {
	n := ServingNames{
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + ClusterDomain},
		IPs:      []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(ServiceIP)},
	}
	for _, d := range extraDNS {
		if d != "" && !slices.Contains(n.DNSNames, d) {
			n.DNSNames = append(n.DNSNames, d)
		}
	}
	for _, ip := range extraIPs {
		if ip != nil && !slices.ContainsFunc(n.IPs, ip.Equal) {
			n.IPs = append(n.IPs, ip)
		}
	}
	return n
}

// IssueServing issues a server certificate for commonName with the SANs of names.
func (ca *CA) IssueServing(commonName string, names ServingNames, validity time.Duration) (*KeyPair, error) {
	tmpl := leafTemplate(pkix.Name{CommonName: commonName}, validity, x509.ExtKeyUsageServerAuth)
	tmpl.DNSNames = names.DNSNames
	tmpl.IPAddresses = names.IPs
	return ca.sign(tmpl)
}

// IssueClient issues a client certificate for user (the CN) in groups (the O).
func (ca *CA) IssueClient(user string, groups []string, validity time.Duration) (*KeyPair, error) {
	if user == "" {
		return nil, fmt.Errorf("issue client certificate: a user name is required")
	}
	return ca.sign(leafTemplate(pkix.Name{CommonName: user, Organization: groups}, validity, x509.ExtKeyUsageClientAuth))
}

// NodeUser is the user name of a node's kubelet: system:node:<name>.
func NodeUser(node string) string { return NodeUserPrefix + node }

func leafTemplate(subject pkix.Name, validity time.Duration, usage x509.ExtKeyUsage) *x509.Certificate {
	if validity <= 0 {
		validity = CertValidity
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               subject,
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
	}
}

func (ca *CA) sign(tmpl *x509.Certificate) (*KeyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate for %q: %w", tmpl.Subject.CommonName, err)
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// Pool returns a cert pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Verify checks that cert was issued by the CA for usage and is valid now.
func (ca *CA) Verify(cert *x509.Certificate, usage x509.ExtKeyUsage) error {
	_, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

// CertPEM is the certificate in PEM.
func (k *KeyPair) CertPEM() []byte { return EncodeCert(k.Cert) }

// KeyPEM is the private key in PEM (PKCS#8).
func (k *KeyPair) KeyPEM() ([]byte, error) { return EncodeKey(k.Key) }

// TLSCertificate is the pair as crypto/tls wants it.
func (k *KeyPair) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{k.Cert.Raw}, PrivateKey: k.Key, Leaf: k.Cert}
}

// CertPEM is the CA certificate in PEM.
func (ca *CA) CertPEM() []byte { return EncodeCert(ca.Cert) }

// EncodeCert encodes a certificate as PEM.
func EncodeCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemTypeCertificate, Bytes: c.Raw})
}

// EncodeKey encodes a private key as PKCS#8 PEM.
func EncodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemTypePKCS8PrivateKey, Bytes: der}), nil
}

// ParseCert reads the first certificate of PEM data.
func ParseCert(data []byte) (*x509.Certificate, error) {
	certs, err := ParseCerts(data)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// ParseCerts reads every certificate of PEM data; it fails on none.
func ParseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != pemTypeCertificate {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM certificate found")
	}
	return out, nil
}

// ParseKey reads a PEM private key (PKCS#8, EC or PKCS#1).
func ParseKey(data []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("no PEM private key found")
	}
	var k any
	var err error
	switch b.Type {
	case pemTypePKCS8PrivateKey:
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case pemTypeECPrivateKey:
		k, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q for a private key", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", k)
	}
	return s, nil
}

func newKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return k, nil
}

// serial is a random 128-bit serial number, as RFC 5280 recommends.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return n.Add(n, big.NewInt(1))
}
