package printer

import (
	"time"

	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/duration"
)

// csrRow is kubectl's: NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION.
func csrRow(obj proto.Message, now time.Time) ([]string, []string) {
	r := obj.(*certificatesv1.CertificateSigningRequest)
	requested := "<none>"
	if r.GetSpec().ExpirationSeconds != nil {
		requested = duration.HumanDuration(time.Duration(r.GetSpec().GetExpirationSeconds()) * time.Second)
	}
	return []string{r.GetMetadata().GetName(), Age(r.GetMetadata().GetCreationTimestamp(), now), r.GetSpec().GetSignerName(),
		r.GetSpec().GetUsername(), requested, CSRCondition(r)}, nil
}

// CSRCondition is kubectl's CONDITION of a request: Pending, Approved or
// Denied, then Failed and Issued when they hold (Approved,Issued).
func CSRCondition(r *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, c := range r.GetStatus().GetConditions() {
		switch c.GetType() {
		case "Approved":
			approved = true
		case "Denied":
			denied = true
		case "Failed":
			failed = true
		}
	}
	s := "Pending"
	if denied {
		s = "Denied"
	} else if approved {
		s = "Approved"
	}
	if failed {
		s += ",Failed"
	}
	if len(r.GetStatus().GetCertificate()) > 0 {
		s += ",Issued"
	}
	return s
}
