// Package csrapproving is the CSR approver: it approves the
// CertificateSigningRequests for kubelet client certificates
// (signer kubernetes.io/kube-apiserver-client-kubelet) that a node may
// ask for: subject CN system:node:<name> in O system:nodes only, no
// subject alternative names, usages client auth and digital signature
// (key encipherment allowed), requested by a bootstrap token (group
// system:bootstrappers: a node joining) or by that node itself (a
// renewal). A bootstrap token's request for a node whose Node exists is
// denied: the token would otherwise take over a registered node's
// identity, so the Node must be deleted before the node joins again.
// Anything else is left for a person (tug certificate approve).
package csrapproving

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/component/pki"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Name names the controller in metrics and --controllers.
const Name = "csrapproving"

// KubeletClientSigner is the signer of kubelets' client certificates.
const KubeletClientSigner = "kubernetes.io/kube-apiserver-client-kubelet"

// Controller is the CSR approver.
type Controller struct {
	*controller.Loop
	cs   *clientset.Set
	csrs informer.Lister[*certificatesv1.CertificateSigningRequest]
	log  *zap.Logger
}

// New returns the approver over the CSR informer.
func New(cs *clientset.Set, csrs *informer.Informer[*certificatesv1.CertificateSigningRequest], m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	c := &Controller{cs: cs, csrs: csrs.Lister(), log: log}
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
	if !ok || Decided(r) || r.GetSpec().GetSignerName() != KubeletClientSigner {
		return nil
	}
	var getErr error
	decision, reason := Decide(r, func(node string) bool {
		exists, err := c.nodeExists(ctx, node)
		if err != nil {
			getErr = err
			return true
		}
		return exists
	})
	if getErr != nil {
		return fmt.Errorf("certificate signing request %s: %w", name, getErr)
	}
	cond := &certificatesv1.CertificateSigningRequestCondition{Status: "True"}
	switch decision {
	case Pending:
		c.log.Info("certificate signing request left for manual approval", zap.String("csr", name), zap.String("reason", reason))
		return nil
	case Deny:
		cond.Type, cond.Reason, cond.Message = "Denied", DeniedReason, reason
	default:
		cond.Type, cond.Reason, cond.Message = "Approved", "AutoApproved", "Auto approving kubelet client certificate: "+reason
	}
	upd := proto.Clone(r).(*certificatesv1.CertificateSigningRequest)
	if upd.Status == nil {
		upd.Status = &certificatesv1.CertificateSigningRequestStatus{}
	}
	upd.Status.Conditions = append(upd.Status.Conditions, cond)
	if _, err := c.cs.CertificateSigningRequests().UpdateApproval(ctx, upd); err != nil {
		if status.Code(err) == codes.NotFound {
			return nil
		}
		return fmt.Errorf("%s certificate signing request %s: %w", strings.ToLower(cond.Type), name, err)
	}
	c.log.Info("certificate signing request "+strings.ToLower(cond.Type), zap.String("csr", name), zap.String("requestor", r.GetSpec().GetUsername()), zap.String("reason", reason))
	return nil
}

// Decision is what the approver does with a request.
type Decision int

const (
	// Pending leaves the request for a person.
	Pending Decision = iota
	// Approve approves it.
	Approve
	// Deny denies it.
	Deny
)

// DeniedReason is the reason of the Denied condition of a bootstrap
// token's request for a registered node.
const DeniedReason = "NodeAlreadyExists"

// Decide says whether the request is approved, denied or left pending,
// and why; nodeExists says whether a Node of that name is registered. A
// bootstrap token's request for a registered node is denied.
func Decide(r *certificatesv1.CertificateSigningRequest, nodeExists func(node string) bool) (Decision, string) {
	var exists bool
	reason, ok := Approvable(r, func(node string) bool { exists = nodeExists(node); return exists })
	switch {
	case ok:
		return Approve, reason
	case exists && slices.Contains(r.GetSpec().GetGroups(), bootstraptoken.Group):
		return Deny, reason
	}
	return Pending, reason
}

// nodeExists asks the apiserver whether the Node exists: bootstrap
// requests are rare (one per join), so one read each is cheaper than a
// cache of every Node.
func (c *Controller) nodeExists(ctx context.Context, node string) (bool, error) {
	_, err := c.cs.Nodes().Get(ctx, &metav1.GetOptions{Name: node})
	switch status.Code(err) {
	case codes.OK:
		return true, nil
	case codes.NotFound:
		return false, nil
	}
	return false, fmt.Errorf("look up node %s: %w", node, err)
}

// Decided reports whether the request is already approved or denied.
func Decided(r *certificatesv1.CertificateSigningRequest) bool {
	for _, c := range r.GetStatus().GetConditions() {
		if (c.GetType() == "Approved" || c.GetType() == "Denied") && c.GetStatus() == "True" {
			return true
		}
	}
	return false
}

// allowedUsages are the usages of a kubelet client certificate.
var allowedUsages = []string{"digital signature", "key encipherment", "client auth"}

// Approvable reports whether the request is a node client certificate its
// requester may have, and says why (or why not); nodeExists says whether a
// Node of that name is registered.
func Approvable(r *certificatesv1.CertificateSigningRequest, nodeExists func(node string) bool) (string, bool) {
	spec := r.GetSpec()
	req, err := pki.ParseCSR(spec.GetRequest())
	if err != nil {
		return err.Error(), false
	}
	if detail := NodeClientRequest(req, spec.GetUsages()); detail != "" {
		return detail, false
	}
	switch {
	case slices.Contains(spec.GetGroups(), bootstraptoken.Group):
		node := strings.TrimPrefix(req.Subject.CommonName, pki.NodeUserPrefix)
		if nodeExists(node) {
			return fmt.Sprintf("node %q already exists: a bootstrap token may not take over a registered node's identity; the Node must be deleted before it can join again", node), false
		}
		return "requested by bootstrap token user " + spec.GetUsername(), true
	case spec.GetUsername() == req.Subject.CommonName && slices.Contains(spec.GetGroups(), pki.GroupNodes):
		return "renewal requested by node " + strings.TrimPrefix(spec.GetUsername(), pki.NodeUserPrefix), true
	}
	return fmt.Sprintf("user %q may not request a certificate for %q (neither a bootstrap token nor that node)", spec.GetUsername(), req.Subject.CommonName), false
}

// NodeClientRequest says what keeps req with usages from being a kubelet
// client certificate request, "" when it is one.
func NodeClientRequest(req *x509.CertificateRequest, usages []string) string {
	switch {
	case !slices.Equal(req.Subject.Organization, []string{pki.GroupNodes}):
		return fmt.Sprintf("subject organization %v is not [%s]", req.Subject.Organization, pki.GroupNodes)
	case !strings.HasPrefix(req.Subject.CommonName, pki.NodeUserPrefix) || req.Subject.CommonName == pki.NodeUserPrefix:
		return fmt.Sprintf("subject common name %q does not start with %s<node>", req.Subject.CommonName, pki.NodeUserPrefix)
	case len(req.DNSNames)+len(req.EmailAddresses)+len(req.IPAddresses)+len(req.URIs) > 0:
		return "a kubelet client certificate has no subject alternative names"
	case !slices.Contains(usages, "client auth"):
		return "usages do not include client auth"
	}
	for _, u := range usages {
		if !slices.Contains(allowedUsages, u) {
			return fmt.Sprintf("usage %q is not one of %s", u, strings.Join(allowedUsages, ", "))
		}
	}
	return ""
}
