package command

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// svcJSON is the part of a Service the expose tests look at.
type svcJSON struct {
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Type     string            `json:"type"`
		Selector map[string]string `json:"selector"`
		Ports    []struct {
			Name       string `json:"name"`
			Port       int    `json:"port"`
			Protocol   string `json:"protocol"`
			TargetPort any    `json:"targetPort"`
		} `json:"ports"`
	} `json:"spec"`
}

func getSvc(t *testing.T, ns, name string) svcJSON {
	t.Helper()
	var s svcJSON
	if err := json.Unmarshal([]byte(ok(t, "-n", ns, "get", "svc", name, "-o", "json")), &s); err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return s
}

func TestExpose(t *testing.T) {
	ns := namespace(t)
	ok(t, "-n", ns, "apply", "-f", seeds+"deployment-for-service.yaml")
	ok(t, "-n", ns, "apply", "-f", seeds+"pod-label.yaml")
	named := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"named","labels":{"app":"named"}},"spec":{"containers":[{"name":"c","image":"tugboat.local/sise:0.5.0","ports":[{"name":"http","containerPort":9876,"protocol":"UDP"}]}]}}`
	if r := tugIn(t, named, "-n", ns, "create", "-f", "-"); r.code != 0 {
		t.Fatalf("create pod: %s", r.err)
	}
	tests := []struct {
		name     string
		args     []string
		svc      string
		typ      string
		selector map[string]string
		ports    string // name:port/protocol->target, comma-separated
	}{
		{"deployment with ports", []string{"expose", "deployment", "deployment-for-service", "--port", "80", "--target-port", "9876"},
			"deployment-for-service", "ClusterIP", map[string]string{"app": "sise"}, ":80/TCP->9876"},
		{"deployment port from its container", []string{"expose", "deploy/deployment-for-service", "--name", "by-container-port"},
			"by-container-port", "ClusterIP", map[string]string{"app": "sise"}, ":9876/TCP->9876"},
		{"pod as NodePort with a named target", []string{"expose", "pod", "named", "--port", "8080", "--target-port", "http", "--name", "pod-svc", "--type", "NodePort"},
			"pod-svc", "NodePort", map[string]string{"app": "named"}, ":8080/UDP->http"},
		{"pod with a protocol", []string{"expose", "pod/pod-label", "--protocol", "UDP"},
			"pod-label", "ClusterIP", map[string]string{"env": "development"}, ":9876/UDP->9876"},
		{"service", []string{"expose", "svc", "deployment-for-service", "--name", "again", "--selector", "app=other"},
			"again", "ClusterIP", map[string]string{"app": "other"}, ":80/TCP->80"},
		{"file", []string{"expose", "-f", seeds + "deployment-for-service.yaml", "--name", "from-file", "--port", "81"},
			"from-file", "ClusterIP", map[string]string{"app": "sise"}, ":81/TCP->81"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ok(t, append([]string{"-n", ns}, tt.args...)...); got != "service/"+tt.svc+" exposed\n" {
				t.Fatalf("printed %q", got)
			}
			s := getSvc(t, ns, tt.svc)
			var ports []string
			for _, p := range s.Spec.Ports {
				ports = append(ports, p.Name+":"+itoa(p.Port)+"/"+p.Protocol+"->"+strings.Trim(jsonString(t, p.TargetPort), `"`))
			}
			if s.Spec.Type != tt.typ || !equalMaps(s.Spec.Selector, tt.selector) || strings.Join(ports, ",") != tt.ports {
				t.Errorf("service %s: type %s selector %v ports %s; want %s %v %s", tt.svc, s.Spec.Type, s.Spec.Selector, strings.Join(ports, ","), tt.typ, tt.selector, tt.ports)
			}
		})
	}
	// The pod's labels are the Service's.
	if s := getSvc(t, ns, "pod-label"); s.Metadata.Labels["env"] != "development" {
		t.Errorf("pod-label's Service has labels %v, want the pod's", s.Metadata.Labels)
	}
	got := ok(t, "-n", ns, "get", "svc")
	for _, re := range []string{
		`^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n`,
		`(?m)^deployment-for-service\s+ClusterIP\s+\S+\s+<none>\s+80/TCP\s+\S+$`,
		`(?m)^pod-svc\s+NodePort\s+\S+\s+<none>\s+8080(:\d+)?/UDP\s+\S+$`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("get svc does not match %s:\n%s", re, got)
		}
	}
	if got := ok(t, "-n", ns, "get", "services", "-o", "wide"); !regexp.MustCompile(`(?m)^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR\n(.*\n)*again\s+.*\s+app=other$`).MatchString(got) {
		t.Errorf("get services -o wide:\n%s", got)
	}
}

func TestExposeBadInputCreatesNothing(t *testing.T) {
	ns := namespace(t)
	ok(t, "-n", ns, "apply", "-f", seeds+"deployment-for-service.yaml")
	ok(t, "-n", ns, "run", "bare", "--image", "tugboat.local/sise:0.5.0", "--labels", "run=bare")
	ok(t, "-n", ns, "apply", "-f", seeds+"second-pod.yaml")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no such deployment", []string{"expose", "deployment", "nope", "--port", "80"}, `"nope" not found`},
		{"a kind expose does not take", []string{"expose", "configmap", "x", "--port", "80"}, "cannot expose a ConfigMap"},
		{"no name", []string{"expose", "deployment"}, "you must provide one TYPE NAME"},
		{"nothing", []string{"expose"}, "you must provide one TYPE NAME"},
		{"unknown type", []string{"expose", "bogus", "x"}, `the server doesn't have a resource type "bogus"`},
		{"no port anywhere", []string{"expose", "pod", "bare"}, "couldn't find port via --port flag or introspection"},
		{"pod without labels", []string{"expose", "pod", "second-pod", "--port", "80"}, "has no labels and cannot be exposed"},
		{"bad port", []string{"expose", "deployment", "deployment-for-service", "--port", "http"}, `invalid --port "http"`},
		{"port out of range", []string{"expose", "deployment", "deployment-for-service", "--port", "70000"}, `invalid --port "70000"`},
		{"target port out of range", []string{"expose", "deployment", "deployment-for-service", "--target-port", "0"}, `invalid --target-port "0"`},
		{"bad type", []string{"expose", "deployment", "deployment-for-service", "--type", "ExternalName"}, `invalid --type "ExternalName"`},
		{"bad protocol", []string{"expose", "deployment", "deployment-for-service", "--protocol", "ICMP"}, `invalid --protocol "ICMP"`},
		{"bad selector", []string{"expose", "deployment", "deployment-for-service", "--selector", "app in (a)"}, "invalid --selector"},
		{"file and name", []string{"expose", "-f", seeds + "deployment-for-service.yaml", "deployment", "x"}, "either -f or TYPE NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tug(t, append([]string{"-n", ns}, tt.args...)...)
			if r.code == 0 || !strings.Contains(r.err, tt.want) {
				t.Errorf("exit %d, stderr %q; want an error with %q", r.code, r.err, tt.want)
			}
		})
	}
	if got := tug(t, "-n", ns, "get", "svc", "-o", "name"); got.out != "" {
		t.Errorf("bad input created Services: %q", got.out)
	}
}

// get endpoints and describe svc show the Endpoints object's addresses.
func TestGetEndpointsAndDescribeService(t *testing.T) {
	ns := namespace(t)
	manifest := `{"apiVersion":"v1","kind":"Service","metadata":{"name":"manual"},"spec":{"ports":[{"name":"web","port":80,"targetPort":9876,"protocol":"TCP"}]}}
{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"manual"},"subsets":[{"addresses":[{"ip":"10.244.0.5"},{"ip":"10.244.0.6"},{"ip":"10.244.0.7"},{"ip":"10.244.0.8"}],"ports":[{"name":"web","port":9876,"protocol":"TCP"}]}]}
{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"empty"}}`
	if r := tugIn(t, manifest, "-n", ns, "create", "-f", "-"); r.code != 0 {
		t.Fatalf("create: %s", r.err)
	}
	got := ok(t, "-n", ns, "get", "ep")
	for _, re := range []string{
		`^NAME\s+ENDPOINTS\s+AGE\n`,
		`(?m)^manual\s+10\.244\.0\.5:9876,10\.244\.0\.6:9876,10\.244\.0\.7:9876 \+ 1 more\.\.\.\s+\S+$`,
		`(?m)^empty\s+<none>\s+\S+$`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("get ep does not match %s:\n%s", re, got)
		}
	}
	got = ok(t, "-n", ns, "describe", "svc", "manual")
	for _, re := range []string{
		`^Name:\s+manual\nNamespace:\s+` + ns + `\nLabels:\s+<none>\nAnnotations:\s+<none>\nSelector:\s+<none>\nType:\s+ClusterIP\n`,
		`(?m)^Port:\s+web  80/TCP\nTargetPort:\s+9876/TCP\nEndpoints:\s+10\.244\.0\.5:9876,10\.244\.0\.6:9876,10\.244\.0\.7:9876 \+ 1 more\.\.\.\nSession Affinity:\s+None\n`,
		`(?m)^Events:\s+<none>$`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("describe svc does not match %s:\n%s", re, got)
		}
	}
	// A Service without an Endpoints object describes as <none>.
	if r := tugIn(t, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"lonely"},"spec":{"ports":[{"port":80}]}}`, "-n", ns, "create", "-f", "-"); r.code != 0 {
		t.Fatalf("create: %s", r.err)
	}
	if got := ok(t, "-n", ns, "describe", "svc", "lonely"); !regexp.MustCompile(`(?m)^Endpoints:\s+<none>$`).MatchString(got) {
		t.Errorf("describe svc lonely:\n%s", got)
	}
	if got := ok(t, "api-resources"); !regexp.MustCompile(`(?m)^services\s+svc\s+v1\s+true\s+Service$`).MatchString(got) ||
		!regexp.MustCompile(`(?m)^endpoints\s+ep\s+v1\s+true\s+Endpoints$`).MatchString(got) {
		t.Errorf("api-resources lacks svc or ep:\n%s", got)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func jsonString(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
