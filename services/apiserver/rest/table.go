package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Server-side printing: kubectl asks for lists and objects as a
// meta.k8s.io/v1 Table (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`)
// and prints its columns. Services, Endpoints and ServiceAccounts are
// answered so, with Kubernetes' columns (`NAME TYPE CLUSTER-IP EXTERNAL-IP
// PORT(S) AGE`, `NAME ENDPOINTS AGE`, `NAME SECRETS AGE`); other kinds, and watches, get their objects, which
// kubectl prints as NAME and AGE.

// tablePath matches a core Service, Endpoints or ServiceAccount list or object.
var tablePath = regexp.MustCompile(`^/api/v1/(?:namespaces/[^/]+/)?(services|endpoints|serviceaccounts)(?:/[^/]+)?$`)

type column struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Format      string `json:"format"`
	Description string `json:"description"`
	Priority    int    `json:"priority"`
}

type row struct {
	Cells  []any `json:"cells"`
	Object any   `json:"object,omitempty"`
}

type table struct {
	Kind              string         `json:"kind"`
	APIVersion        string         `json:"apiVersion"`
	Metadata          map[string]any `json:"metadata"`
	ColumnDefinitions []column       `json:"columnDefinitions"`
	Rows              []row          `json:"rows"`
}

// printer turns one object into its cells.
type printer struct {
	columns []column
	cells   func(obj map[string]any, now time.Time) []any
}

var printers = map[string]printer{
	"services": {
		columns: []column{
			{Name: "Name", Type: "string", Format: "name", Description: "Name of the Service"},
			{Name: "Type", Type: "string", Description: "The Service type"},
			{Name: "Cluster-IP", Type: "string", Description: "The cluster IP"},
			{Name: "External-IP", Type: "string", Description: "External IPs"},
			{Name: "Port(s)", Type: "string", Description: "The Service's ports"},
			{Name: "Age", Type: "string", Description: "Time since creation"},
			{Name: "Selector", Type: "string", Priority: 1, Description: "The Service's selector"},
		},
		cells: serviceCells,
	},
	"endpoints": {
		columns: []column{
			{Name: "Name", Type: "string", Format: "name", Description: "Name of the Endpoints"},
			{Name: "Endpoints", Type: "string", Description: "Ready addresses and ports"},
			{Name: "Age", Type: "string", Description: "Time since creation"},
		},
		cells: endpointsCells,
	},
	"serviceaccounts": {
		columns: []column{
			{Name: "Name", Type: "string", Format: "name", Description: "Name of the ServiceAccount"},
			{Name: "Secrets", Type: "integer", Description: "Number of its secrets"},
			{Name: "Age", Type: "string", Description: "Time since creation"},
		},
		cells: func(o map[string]any, now time.Time) []any {
			return []any{str(o, "metadata", "name"), int64(len(asList(o["secrets"]))), age(str(o, "metadata", "creationTimestamp"), now)}
		},
	},
}

// wantsTable says whether the Accept header asks for a Table first.
func wantsTable(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if strings.Contains(part, "as=Table") && strings.Contains(part, "g=meta.k8s.io") {
			return true
		}
	}
	return false
}

// tableMiddleware answers Table requests for Services, Endpoints and ServiceAccounts from
// the objects the gateway returns.
func tableMiddleware(next http.Handler, log *zap.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := tablePath.FindStringSubmatch(r.URL.Path)
		if r.Method != http.MethodGet || m == nil || r.URL.Query().Get("watch") != "" || !wantsTable(r) {
			next.ServeHTTP(w, r)
			return
		}
		r = r.Clone(r.Context())
		r.Header.Set("Accept", "application/json")
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var obj map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &obj) != nil {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		writeJSON(w, log, http.StatusOK, toTable(printers[m[1]], obj, time.Now()))
	})
}

// toTable prints a list (an object with items) or one object.
func toTable(p printer, obj map[string]any, now time.Time) table {
	t := table{Kind: "Table", APIVersion: "meta.k8s.io/v1", Metadata: map[string]any{}, ColumnDefinitions: p.columns, Rows: []row{}}
	items := []any{obj}
	if list, ok := obj["items"].([]any); ok {
		items = list
		if meta, ok := obj["metadata"].(map[string]any); ok {
			t.Metadata = meta
		}
	} else if meta, ok := obj["metadata"].(map[string]any); ok {
		t.Metadata = map[string]any{"resourceVersion": meta["resourceVersion"]}
	}
	for _, it := range items {
		o, _ := it.(map[string]any)
		t.Rows = append(t.Rows, row{Cells: p.cells(o, now), Object: map[string]any{
			"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"],
		}})
	}
	return t
}

func field(o map[string]any, path ...string) any {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func str(o map[string]any, path ...string) string {
	s, _ := field(o, path...).(string)
	return s
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func serviceCells(o map[string]any, now time.Time) []any {
	typ, ip := str(o, "spec", "type"), str(o, "spec", "clusterIP")
	if ip == "" {
		ip = "<none>"
	}
	external := "<none>"
	var ext []string
	for _, e := range asList(field(o, "spec", "externalIPs")) {
		if s, ok := e.(string); ok {
			ext = append(ext, s)
		}
	}
	switch {
	case typ == "ExternalName":
		external = str(o, "spec", "externalName")
	case len(ext) > 0:
		external = strings.Join(ext, ",")
	case typ == "LoadBalancer":
		external = "<pending>"
	}
	var ports []string
	for _, p := range asList(field(o, "spec", "ports")) {
		pm, _ := p.(map[string]any)
		s := fmt.Sprint(num(pm["port"]))
		if np := num(pm["nodePort"]); np != 0 {
			s += fmt.Sprintf(":%d", np)
		}
		proto, _ := pm["protocol"].(string)
		ports = append(ports, s+"/"+proto)
	}
	portCell := strings.Join(ports, ",")
	if portCell == "" {
		portCell = "<none>"
	}
	var sel []string
	if m, ok := field(o, "spec", "selector").(map[string]any); ok {
		for k, v := range m {
			sel = append(sel, fmt.Sprintf("%s=%v", k, v))
		}
	}
	sort.Strings(sel)
	selector := strings.Join(sel, ",")
	if selector == "" {
		selector = "<none>"
	}
	return []any{str(o, "metadata", "name"), typ, ip, external, portCell, age(str(o, "metadata", "creationTimestamp"), now), selector}
}

func endpointsCells(o map[string]any, now time.Time) []any {
	var eps []string
	for _, ss := range asList(o["subsets"]) {
		sm, _ := ss.(map[string]any)
		ports := asList(sm["ports"])
		for _, a := range asList(sm["addresses"]) {
			ip := str(a.(map[string]any), "ip")
			if len(ports) == 0 {
				eps = append(eps, ip)
			}
			for _, p := range ports {
				eps = append(eps, fmt.Sprintf("%s:%d", ip, num(p.(map[string]any)["port"])))
			}
		}
	}
	cell := "<none>"
	if len(eps) > 3 {
		cell = strings.Join(eps[:3], ",") + fmt.Sprintf(" + %d more...", len(eps)-3)
	} else if len(eps) > 0 {
		cell = strings.Join(eps, ",")
	}
	return []any{str(o, "metadata", "name"), cell, age(str(o, "metadata", "creationTimestamp"), now)}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// age is kubectl's short human duration since an RFC 3339 time.
func age(created string, now time.Time) string {
	t, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return "<unknown>"
	}
	d := now.Sub(t)
	s := int(d.Seconds())
	switch {
	case s < 0:
		return "0s"
	case s < 120:
		return fmt.Sprintf("%ds", s)
	case d < 10*time.Minute:
		if s%60 == 0 {
			return fmt.Sprintf("%dm", s/60)
		}
		return fmt.Sprintf("%dm%ds", s/60, s%60)
	case d < 3*time.Hour:
		return fmt.Sprintf("%dm", s/60)
	case d < 8*time.Hour:
		if m := (s / 60) % 60; m != 0 {
			return fmt.Sprintf("%dh%dm", s/3600, m)
		}
		return fmt.Sprintf("%dh", s/3600)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", s/3600)
	case d < 8*24*time.Hour:
		if h := (s / 3600) % 24; h != 0 {
			return fmt.Sprintf("%dd%dh", s/86400, h)
		}
		return fmt.Sprintf("%dd", s/86400)
	case d < 2*365*24*time.Hour:
		return fmt.Sprintf("%dd", s/86400)
	}
	return fmt.Sprintf("%dy", s/(365*86400))
}
