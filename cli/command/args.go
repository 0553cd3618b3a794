package command

import (
	"fmt"
	"strings"

	"github.com/tugboat-sh/tugboat/machinery/scheme"
)

// target is a kind and the names asked for (none: all of them).
type target struct {
	kind  scheme.Kind
	names []string
}

// allKinds is what "all" expands to, as in kubectl.
var allKinds = []string{"pods", "services", "deployments", "replicasets", "jobs", "cronjobs"}

// parseTargets reads kubectl's ways of naming objects: "pods", "po x y",
// "pods,services", "pod/x svc/y", "all".
func parseTargets(args []string) ([]target, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("you must specify the type of resource to get. Use \"tug api-resources\" for a complete list of supported resources")
	}
	if strings.Contains(args[0], "/") {
		var out []target
		for _, a := range args {
			typ, name, ok := strings.Cut(a, "/")
			if !ok || name == "" {
				return nil, fmt.Errorf("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'tug get resource/<resource_name>' instead of 'tug get resource resource/<resource_name>')")
			}
			k, err := lookup(typ)
			if err != nil {
				return nil, err
			}
			out = append(out, target{kind: k, names: []string{name}})
		}
		return out, nil
	}
	var out []target
	for _, typ := range strings.Split(args[0], ",") {
		if typ == "all" {
			for _, a := range allKinds {
				k, _ := scheme.Lookup(a)
				out = append(out, target{kind: k})
			}
			continue
		}
		k, err := lookup(typ)
		if err != nil {
			return nil, err
		}
		out = append(out, target{kind: k, names: args[1:]})
	}
	if len(out) > 1 && len(args) > 1 {
		return nil, fmt.Errorf("names cannot be given with several resource types (%s); use type/name", args[0])
	}
	return out, nil
}

func lookup(typ string) (scheme.Kind, error) {
	k, ok := scheme.Lookup(typ)
	if !ok {
		return scheme.Kind{}, fmt.Errorf("the server doesn't have a resource type %q", typ)
	}
	return k, nil
}

// resourceNames lists every resource name and short name, for completion.
func resourceNames() []string {
	var out []string
	for _, k := range scheme.All() {
		out = append(out, k.Resource)
		out = append(out, k.ShortNames...)
	}
	return out
}
