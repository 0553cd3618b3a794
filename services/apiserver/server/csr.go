package server

import (
	"context"

	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type (
	csr       = certificatesv1.CertificateSigningRequest
	csrStatus = certificatesv1.CertificateSigningRequestStatus
	csrCond   = certificatesv1.CertificateSigningRequestCondition
)

// csrService adds what certificate signing requests do differently: the
// requester is recorded from the authenticated user, /approval sets only
// the Approved or Denied condition and /status only the certificate and
// the other conditions.
type csrService struct {
	*handler[*csr, *certificatesv1.CertificateSigningRequestList, certificatesv1.CertificateSigningRequestWatchEvent]
}

// Create records the requester in the spec, replacing whatever the
// client wrote there (empty when authentication is off).
func (c *csrService) Create(ctx context.Context, obj *csr) (*csr, error) {
	obj = proto.Clone(obj).(*csr)
	if obj.Spec == nil {
		obj.Spec = &certificatesv1.CertificateSigningRequestSpec{}
	}
	obj.Spec.Username, obj.Spec.Uid, obj.Spec.Groups = "", "", nil
	if u, ok := authn.FromContext(ctx); ok {
		obj.Spec.Username, obj.Spec.Uid, obj.Spec.Groups = u.Name, u.UID, append([]string(nil), u.Groups...)
	}
	obj.Status = nil
	return c.handler.Create(ctx, obj)
}

// UpdateApproval sets the Approved or Denied condition; the certificate
// and the other conditions are kept.
func (c *csrService) UpdateApproval(ctx context.Context, obj *csr) (*csr, error) {
	return typed[*csr](c.res.UpdateSubresource(ctx, obj, func(next, sent proto.Message) {
		merge(next.(*csr), sent.(*csr), true)
	}))
}

// UpdateStatus sets the certificate and the conditions other than
// Approved and Denied, which are kept.
func (c *csrService) UpdateStatus(ctx context.Context, obj *csr) (*csr, error) {
	return typed[*csr](c.res.UpdateSubresource(ctx, obj, func(next, sent proto.Message) {
		n, s := next.(*csr), sent.(*csr)
		merge(n, s, false)
		n.Status.Certificate = s.GetStatus().GetCertificate()
	}))
}

// merge takes the approval conditions (approval) or the others from sent.
func merge(next, sent *csr, approval bool) {
	if next.Status == nil {
		next.Status = &csrStatus{}
	}
	var conds []*csrCond
	for _, c := range next.Status.GetConditions() {
		if isApproval(c) != approval {
			conds = append(conds, c)
		}
	}
	now := timestamppb.Now()
	for _, c := range sent.GetStatus().GetConditions() {
		if isApproval(c) == approval {
			c = proto.Clone(c).(*csrCond)
			if c.LastUpdateTime == nil {
				c.LastUpdateTime = now
			}
			if c.LastTransitionTime == nil {
				c.LastTransitionTime = now
			}
			conds = append(conds, c)
		}
	}
	next.Status.Conditions = conds
}

func isApproval(c *csrCond) bool { return c.GetType() == "Approved" || c.GetType() == "Denied" }
