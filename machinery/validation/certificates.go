package validation

import (
	"crypto/x509"
	"encoding/pem"
	"strings"

	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

// KeyUsages are the usages a CertificateSigningRequest may ask for, as in
// Kubernetes' certificates.k8s.io/v1.
var KeyUsages = []string{
	"signing", "digital signature", "content commitment", "key encipherment", "key agreement",
	"data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
	"server auth", "client auth", "code signing", "email protection", "s/mime",
	"ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
	"microsoft sgc", "netscape sgc",
}

// CSR condition types.
var csrConditionTypes = []string{"Approved", "Denied", "Failed"}

func validateCSR(c *certificatesv1.CertificateSigningRequest) List {
	errs := validateMeta(c.GetMetadata(), metaOpts{name: names.PathSegment})
	s := c.GetSpec()
	p := path("spec")
	if len(s.GetRequest()) == 0 {
		errs = append(errs, required(p.child("request"), "a PEM-encoded CERTIFICATE REQUEST is required"))
	} else if detail := csrRequest(s.GetRequest()); detail != "" {
		errs = append(errs, invalid(p.child("request"), "<bytes>", detail))
	}
	if sn := s.GetSignerName(); sn == "" {
		errs = append(errs, required(p.child("signerName"), "the signer's name is required"))
	} else if d, rest, ok := strings.Cut(sn, "/"); !ok || d == "" || rest == "" || strings.Count(sn, "/") != 1 {
		errs = append(errs, invalid(p.child("signerName"), sn, "must be a fully qualified domain and path of the form 'example.com/signer-name'"))
	}
	if e := s.GetExpirationSeconds(); s != nil && s.ExpirationSeconds != nil && e < 600 {
		errs = append(errs, invalid(p.child("expirationSeconds"), e, "may not specify a duration less than 600 seconds (10 minutes)"))
	}
	if len(s.GetUsages()) == 0 {
		errs = append(errs, required(p.child("usages"), "at least one usage is required"))
	}
	seen := map[string]bool{}
	for i, u := range s.GetUsages() {
		switch {
		case !contains(KeyUsages, u):
			errs = append(errs, notSupported(p.child("usages").index(i), u, KeyUsages...))
		case seen[u]:
			errs = append(errs, duplicate(p.child("usages").index(i), u))
		}
		seen[u] = true
	}
	errs = append(errs, csrConditions(c.GetStatus().GetConditions())...)
	if len(c.GetStatus().GetCertificate()) > 0 && approval(c) != "Approved" {
		errs = append(errs, forbidden(path("status").child("certificate"), "a certificate may only be issued for an approved request"))
	}
	return errs
}

// csrRequest says what is wrong with a request's PEM, "" when nothing.
func csrRequest(data []byte) string {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return "must be a PEM block of type CERTIFICATE REQUEST"
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return "cannot parse the certificate request: " + err.Error()
	}
	if err := req.CheckSignature(); err != nil {
		return "the certificate request's signature is invalid: " + err.Error()
	}
	return ""
}

func csrConditions(cs []*certificatesv1.CertificateSigningRequestCondition) List {
	var errs List
	p := path("status").child("conditions")
	seen := map[string]bool{}
	for i, c := range cs {
		cp := p.index(i)
		switch {
		case !contains(csrConditionTypes, c.GetType()):
			errs = append(errs, notSupported(cp.child("type"), c.GetType(), csrConditionTypes...))
		case seen[c.GetType()]:
			errs = append(errs, duplicate(cp.child("type"), c.GetType()))
		}
		seen[c.GetType()] = true
		if c.GetStatus() == "" {
			errs = append(errs, required(cp.child("status"), "the condition's status is required"))
		}
		errs = append(errs, oneOf(cp.child("status"), c.GetStatus(), "True", "False", "Unknown")...)
	}
	if seen["Approved"] && seen["Denied"] {
		errs = append(errs, invalid(p, "Approved, Denied", "Approved and Denied conditions are mutually exclusive"))
	}
	return errs
}

// approval is the request's Approved or Denied condition type, "" if none.
func approval(c *certificatesv1.CertificateSigningRequest) string {
	for _, cond := range c.GetStatus().GetConditions() {
		if t := cond.GetType(); t == "Approved" || t == "Denied" {
			return t
		}
	}
	return ""
}
