package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// readResult is one read figure: the apiserver's latencies and raw etcd's
// for reading the same keys.
type readResult struct {
	kind  string // "get", "list" or "rest-list"
	items int
	api   latencies
	raw   latencies
}

// measureReads fills one namespace per list size, then times GET of one pod,
// gRPC LIST of each namespace, and a REST JSON LIST of the first, each
// beside raw etcd reads of the same keys.
func measureReads(ctx context.Context, c *cluster, o options, log io.Writer) ([]readResult, error) {
	nss := make([]string, len(o.listSizes))
	for i, n := range o.listSizes {
		ns, err := c.namespace(ctx, fmt.Sprintf("list-%d", n))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "bench: creating %d pods in %s\n", n, ns)
		t0 := time.Now()
		if err := c.fillPods(ctx, ns, n); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "bench: created %d pods in %.1fs\n", n, time.Since(t0).Seconds())
		nss[i] = ns
	}
	var out []readResult

	fmt.Fprintln(log, "bench: GET one pod")
	key := "/registry/pods/" + nss[0] + "/p-00000"
	get := readResult{kind: "get", items: 1}
	var err error
	get.api, err = sequential(ctx, o.readTime, 50, 5000, func(ctx context.Context) error {
		_, err := c.cs.Pods().Get(ctx, &metav1.GetOptions{Namespace: nss[0], Name: "p-00000"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get pod: %w", err)
	}
	if get.raw, err = sequential(ctx, o.readTime, 50, 5000, func(ctx context.Context) error {
		return expectKeys(c.etcd.Get(ctx, key))(1)
	}); err != nil {
		return nil, fmt.Errorf("raw get: %w", err)
	}
	out = append(out, get)

	for i, n := range o.listSizes {
		fmt.Fprintf(log, "bench: LIST %d pods\n", n)
		ns := nss[i]
		r := readResult{kind: "list", items: n}
		if r.api, err = sequential(ctx, o.readTime, 5, 1000, func(ctx context.Context) error {
			l, err := c.cs.Pods().List(ctx, &metav1.ListOptions{Namespace: ns})
			if err != nil {
				return err
			}
			if len(l.GetItems()) != n {
				return fmt.Errorf("listed %d pods in %s, want %d", len(l.GetItems()), ns, n)
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("list %d pods: %w", n, err)
		}
		rawList := func(ctx context.Context) error {
			return expectKeys(c.etcd.Get(ctx, "/registry/pods/"+ns+"/", clientv3.WithPrefix()))(n)
		}
		if r.raw, err = sequential(ctx, o.readTime, 5, 1000, rawList); err != nil {
			return nil, fmt.Errorf("raw range of %d keys: %w", n, err)
		}
		out = append(out, r)
		if i == 0 {
			fmt.Fprintf(log, "bench: REST LIST %d pods\n", n)
			rest := readResult{kind: "rest-list", items: n, raw: r.raw}
			if rest.api, err = sequential(ctx, o.readTime, 5, 1000, func(ctx context.Context) error {
				return c.restList(ctx, ns, n)
			}); err != nil {
				return nil, fmt.Errorf("REST list %d pods: %w", n, err)
			}
			out = append(out, rest)
		}
	}
	return out, nil
}

// expectKeys checks a raw etcd read returned n keys.
func expectKeys(resp *clientv3.GetResponse, err error) func(n int) error {
	return func(n int) error {
		if err != nil {
			return err
		}
		if len(resp.Kvs) != n {
			return fmt.Errorf("etcd returned %d keys, want %d", len(resp.Kvs), n)
		}
		return nil
	}
}

var httpClient = &http.Client{Timeout: time.Minute}

// restList lists the pods of ns as JSON, decoding the body as a client would.
func (c *cluster) restList(ctx context.Context, ns string, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+"/api/v1/namespaces/"+ns+"/pods", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", req.URL, resp.Status, b)
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return fmt.Errorf("decode pod list: %w", err)
	}
	if len(list.Items) != want {
		return fmt.Errorf("REST listed %d pods in %s, want %d", len(list.Items), ns, want)
	}
	return nil
}
