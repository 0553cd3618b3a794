package printer

import (
	"time"

	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/proto"
)

// columns is the table of one kind: its columns, the extra ones of -o
// wide, and how an object fills them.
type columns struct {
	header, wide []string
	row          func(obj proto.Message, now time.Time) (cells, wide []string)
}

// byKind holds the kinds with columns of their own; the others show NAME
// and AGE.
var byKind = map[string]columns{
	"Pod": {
		header: []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
		wide:   []string{"IP", "NODE", "NOMINATED NODE", "READINESS GATES"},
		row:    podRow,
	},
	"Node": {
		header: []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION"},
		wide:   []string{"INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"},
		row:    nodeRow,
	},
	"Namespace":                 {header: []string{"NAME", "STATUS", "AGE"}, row: namespaceRow},
	"Service":                   {header: []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}, wide: []string{"SELECTOR"}, row: serviceRow},
	"Endpoints":                 {header: []string{"NAME", "ENDPOINTS", "AGE"}, row: endpointsRow},
	"Secret":                    {header: []string{"NAME", "TYPE", "DATA", "AGE"}, row: secretRow},
	"ConfigMap":                 {header: []string{"NAME", "DATA", "AGE"}, row: configMapRow},
	"ServiceAccount":            {header: []string{"NAME", "SECRETS", "AGE"}, row: serviceAccountRow},
	"Event":                     {header: []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}, row: eventRow},
	"Lease":                     {header: []string{"NAME", "HOLDER", "AGE"}, row: leaseRow},
	"ReplicaSet":                {header: []string{"NAME", "DESIRED", "CURRENT", "READY", "AGE"}, wide: []string{"CONTAINERS", "IMAGES", "SELECTOR"}, row: replicaSetRow},
	"Deployment":                {header: []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}, wide: []string{"CONTAINERS", "IMAGES", "SELECTOR"}, row: deploymentRow},
	"Job":                       {header: []string{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"}, wide: []string{"CONTAINERS", "IMAGES", "SELECTOR"}, row: jobRow},
	"CertificateSigningRequest": {header: []string{"NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"}, row: csrRow},
	"CronJob":                   {header: []string{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"}, wide: []string{"CONTAINERS", "IMAGES", "SELECTOR"}, row: cronJobRow},
}

func columnsOf(k scheme.Kind) columns {
	if c, ok := byKind[k.Kind]; ok {
		return c
	}
	return columns{header: []string{"NAME", "AGE"}, row: func(obj proto.Message, now time.Time) ([]string, []string) {
		m := metaOf(obj)
		return []string{m.GetName(), Age(m.GetCreationTimestamp(), now)}, nil
	}}
}
