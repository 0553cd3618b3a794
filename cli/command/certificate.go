package command

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// newCertificate is kubectl's certificate verb: approve or deny
// certificate signing requests.
func newCertificate(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certificate",
		Short: "Approve or deny certificate signing requests",
	}
	var force bool
	for _, d := range []struct{ verb, condition, reason string }{
		{"approve", "Approved", "TugApprove"},
		{"deny", "Denied", "TugDeny"},
	} {
		c := &cobra.Command{
			Use:     d.verb + " NAME...",
			Short:   "Mark certificate signing requests " + d.condition,
			Example: "  tug certificate " + d.verb + " node-csr-abc12",
			Args:    cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				for _, name := range args {
					if err := decideCSR(cmd.Context(), env, name, d.condition, d.reason, d.verb, force); err != nil {
						return err
					}
				}
				return nil
			},
		}
		c.Flags().BoolVar(&force, "force", false, "update the request even if it is already "+map[string]string{"approve": "denied", "deny": "approved"}[d.verb]+" (the apiserver still refuses changing a decision)")
		cmd.AddCommand(c)
	}
	return cmd
}

// decideCSR adds the condition to the request's approval, as kubectl does:
// nothing to do when it is there already, an error when the other
// decision was made.
func decideCSR(ctx context.Context, env *Env, name, condition, reason, verb string, force bool) error {
	cs, err := typedClient(ctx, env)
	if err != nil {
		return err
	}
	csrs := cs.CertificateSigningRequests()
	r, err := csrs.Get(ctx, &metav1.GetOptions{Name: name})
	if err != nil {
		return err
	}
	for _, c := range r.GetStatus().GetConditions() {
		switch {
		case c.GetType() == condition:
			fmt.Fprintf(env.Out, "certificatesigningrequest.certificates.k8s.io/%s %s\n", name, pastTense(verb))
			return nil
		case (c.GetType() == "Approved" || c.GetType() == "Denied") && !force:
			return fmt.Errorf("certificatesigningrequest.certificates.k8s.io/%s is already %s", name, c.GetType())
		}
	}
	upd := proto.Clone(r).(*certificatesv1.CertificateSigningRequest)
	if upd.Status == nil {
		upd.Status = &certificatesv1.CertificateSigningRequestStatus{}
	}
	upd.Status.Conditions = append(upd.Status.Conditions, &certificatesv1.CertificateSigningRequestCondition{
		Type: condition, Status: "True", Reason: reason, Message: "This CSR was " + pastTense(verb) + " by tug certificate " + verb + ".",
	})
	if _, err := csrs.UpdateApproval(ctx, upd); err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "certificatesigningrequest.certificates.k8s.io/%s %s\n", name, pastTense(verb))
	return nil
}

func pastTense(verb string) string {
	if verb == "approve" {
		return "approved"
	}
	return "denied"
}
