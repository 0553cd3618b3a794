// Package csrsigning is the CSR signer: it issues the certificates of
// approved CertificateSigningRequests for the signers
// kubernetes.io/kube-apiserver-client-kubelet (kubelet client
// certificates, which must be system:node:<name> in system:nodes) and
// kubernetes.io/kube-apiserver-client (any client certificate), with the
// cluster CA (--cluster-signing-cert-file, --cluster-signing-key-file).
// A certificate lasts the request's expirationSeconds, at most
// --cluster-signing-duration. A request the signer cannot honour gets a
// Failed condition; those of other signers are left alone.
package csrsigning

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/component/pki"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"github.com/tugboat-sh/tugboat/services/controller-manager/csrapproving"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Name names the controller in metrics and --controllers.
const Name = "csrsigning"

// ClientSigner is the signer of any client certificate of the apiserver.
const ClientSigner = "kubernetes.io/kube-apiserver-client"

// minDuration is the shortest certificate issued (Kubernetes' minimum).
const minDuration = 10 * time.Minute

// Controller is the CSR signer.
type Controller struct {
	*controller.Loop
	cs       *clientset.Set
	csrs     informer.Lister[*certificatesv1.CertificateSigningRequest]
	ca       *pki.CA
	duration time.Duration
	log      *zap.Logger
}

// LoadCA reads the signing CA's certificate and key (PEM; the key file
// must not be readable by group or others).
func LoadCA(certFile, keyFile string) (*pki.CA, error) {
	if err := pki.CheckKeyFile(keyFile); err != nil {
		return nil, fmt.Errorf("--cluster-signing-key-file: %w", err)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("--cluster-signing-cert-file: %w", err)
	}
	cert, err := pki.ParseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("--cluster-signing-cert-file %s: %w", certFile, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("--cluster-signing-key-file: %w", err)
	}
	key, err := pki.ParseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--cluster-signing-key-file %s: %w", keyFile, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("--cluster-signing-cert-file %s: %q is not a CA certificate", certFile, cert.Subject.CommonName)
	}
	ca := &pki.CA{Cert: cert, Key: key}
	if err := ca.CheckKey(); err != nil {
		return nil, fmt.Errorf("--cluster-signing-key-file %s does not belong to --cluster-signing-cert-file %s: %w", keyFile, certFile, err)
	}
	return ca, nil
}

// New returns the signer issuing with ca for at most duration.
func New(cs *clientset.Set, csrs *informer.Informer[*certificatesv1.CertificateSigningRequest], ca *pki.CA, duration time.Duration,
	m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	if duration < minDuration {
		return nil, fmt.Errorf("--cluster-signing-duration %s is shorter than %s", duration, minDuration)
	}
	c := &Controller{cs: cs, csrs: csrs.Lister(), ca: ca, duration: duration, log: log}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	enqueue := func(r *certificatesv1.CertificateSigningRequest) { c.Enqueue(r.GetMetadata().GetName()) }
	csrs.AddHandler(informer.HandlerFuncs[*certificatesv1.CertificateSigningRequest]{
		AddFunc:    enqueue,
		UpdateFunc: func(_, r *certificatesv1.CertificateSigningRequest) { enqueue(r) },
	})
	return c, nil
}

func (c *Controller) sync(ctx context.Context, name string) error {
	r, ok := c.csrs.Get("", name)
	if !ok || !approved(r) || len(r.GetStatus().GetCertificate()) > 0 || hasCondition(r, "Failed") {
		return nil
	}
	signer := r.GetSpec().GetSignerName()
	if signer != csrapproving.KubeletClientSigner && signer != ClientSigner {
		return nil
	}
	upd := proto.Clone(r).(*certificatesv1.CertificateSigningRequest)
	cert, err := c.issue(r)
	if err != nil {
		upd.Status.Conditions = append(upd.Status.Conditions, &certificatesv1.CertificateSigningRequestCondition{
			Type: "Failed", Status: "True", Reason: "SignerValidationFailure", Message: err.Error(),
		})
		c.log.Info("certificate signing request refused by the signer", zap.String("csr", name), zap.Error(err))
	} else {
		upd.Status.Certificate = pki.EncodeCert(cert)
	}
	if _, err := c.cs.CertificateSigningRequests().UpdateStatus(ctx, upd); err != nil {
		if status.Code(err) == codes.NotFound {
			return nil
		}
		return fmt.Errorf("certificate signing request %s: update status: %w", name, err)
	}
	if cert != nil {
		c.log.Info("certificate issued", zap.String("csr", name), zap.String("subject", cert.Subject.CommonName), zap.Time("notAfter", cert.NotAfter))
	}
	return nil
}

// issue checks the request against its signer's rules and signs it.
func (c *Controller) issue(r *certificatesv1.CertificateSigningRequest) (*x509.Certificate, error) {
	spec := r.GetSpec()
	req, err := pki.ParseCSR(spec.GetRequest())
	if err != nil {
		return nil, err
	}
	if spec.GetSignerName() == csrapproving.KubeletClientSigner {
		if detail := csrapproving.NodeClientRequest(req, spec.GetUsages()); detail != "" {
			return nil, fmt.Errorf("not a kubelet client certificate request: %s", detail)
		}
	}
	ext, ku, err := Usages(spec.GetUsages())
	if err != nil {
		return nil, err
	}
	if !slices.Equal(ext, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		return nil, fmt.Errorf("signer %s issues client certificates only: usages %v", spec.GetSignerName(), spec.GetUsages())
	}
	return c.ca.SignCSR(req, ext, ku, Duration(spec.ExpirationSeconds, c.duration))
}

// Duration is a certificate's validity: the requested expirationSeconds
// (when set) capped at limit, and never under ten minutes.
func Duration(expirationSeconds *int32, limit time.Duration) time.Duration {
	d := limit
	if expirationSeconds != nil {
		if req := time.Duration(*expirationSeconds) * time.Second; req < d {
			d = req
		}
	}
	return max(d, minDuration)
}

// Usages maps a request's usages to extended and plain key usages; the
// signer issues only client auth with digital signature and key
// encipherment.
func Usages(usages []string) ([]x509.ExtKeyUsage, x509.KeyUsage, error) {
	var ext []x509.ExtKeyUsage
	var ku x509.KeyUsage
	for _, u := range usages {
		switch u {
		case "client auth":
			ext = append(ext, x509.ExtKeyUsageClientAuth)
		case "digital signature":
			ku |= x509.KeyUsageDigitalSignature
		case "key encipherment":
			ku |= x509.KeyUsageKeyEncipherment
		default:
			return nil, 0, fmt.Errorf("usage %q is not issued by this signer (client auth, digital signature, key encipherment)", u)
		}
	}
	return ext, ku, nil
}

func approved(r *certificatesv1.CertificateSigningRequest) bool { return hasCondition(r, "Approved") }

func hasCondition(r *certificatesv1.CertificateSigningRequest, t string) bool {
	for _, c := range r.GetStatus().GetConditions() {
		if c.GetType() == t && c.GetStatus() == "True" {
			return true
		}
	}
	return false
}
