package storage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ListOptions select a page of keys under a prefix.
type ListOptions struct {
	// Limit is the most items a page returns; 0 means all.
	Limit int64
	// Continue is the token of the previous page.
	Continue string
	// Revision reads at an exact revision; 0 means the latest.
	Revision int64
	// Filter keeps an item; nil keeps all. Filtered items do not count
	// against Limit.
	Filter func(kv *KV) (bool, error)
}

// ListResult is one page.
type ListResult struct {
	Items []*KV
	// Revision is the snapshot the page was read at.
	Revision int64
	// Continue is the token of the next page, empty on the last.
	Continue string
	// Remaining is how many keys (before filtering) follow this page, when known.
	Remaining int64
}

type continueToken struct {
	Revision int64  `json:"rv"`
	Start    string `json:"start"`
}

func encodeContinue(rev int64, nextKey, prefix string) string {
	b, _ := json.Marshal(continueToken{Revision: rev, Start: strings.TrimPrefix(nextKey, prefix)})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(token, prefix string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return t, fmt.Errorf("%w: %v", ErrContinue, err)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("%w: %v", ErrContinue, err)
	}
	if t.Revision <= 0 || strings.Contains(t.Start, "..") {
		return t, fmt.Errorf("%w: bad revision or key", ErrContinue)
	}
	return t, nil
}

// List reads the keys under prefix as one consistent snapshot: the first page
// fixes the revision and later pages (by continue token) read at it.
func (s *Store) List(ctx context.Context, resource, prefix string, opts ListOptions) (*ListResult, error) {
	defer s.observe("list", resource, time.Now())
	start := prefix
	rev := opts.Revision
	if opts.Continue != "" {
		t, err := decodeContinue(opts.Continue, prefix)
		if err != nil {
			return nil, err
		}
		start, rev = prefix+t.Start, t.Revision
	}
	end := clientv3.GetPrefixRangeEnd(prefix)
	out := &ListResult{Revision: rev}
	chunk := opts.Limit
	if opts.Filter != nil && chunk > 0 && chunk < 100 {
		chunk = 100
	}
	for {
		getOpts := []clientv3.OpOption{clientv3.WithRange(end)}
		if rev > 0 {
			getOpts = append(getOpts, clientv3.WithRev(rev))
		}
		if chunk > 0 {
			getOpts = append(getOpts, clientv3.WithLimit(chunk))
		}
		resp, err := s.client.Get(ctx, start, getOpts...)
		if err != nil {
			if compacted(err) {
				return nil, ErrCompacted
			}
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
			out.Revision = rev
		}
		for i, kv := range resp.Kvs {
			value, err := s.fromStorage(string(kv.Key), kv.Value)
			if err != nil {
				return nil, err
			}
			item := &KV{Key: kv.Key, Value: value, ModRevision: kv.ModRevision, CreateRevision: kv.CreateRevision}
			keep := true
			if opts.Filter != nil {
				if keep, err = opts.Filter(item); err != nil {
					return nil, err
				}
			}
			if keep {
				out.Items = append(out.Items, item)
			}
			if opts.Limit > 0 && int64(len(out.Items)) == opts.Limit {
				more := resp.More || i < len(resp.Kvs)-1
				if more {
					next := string(kv.Key) + "\x00"
					out.Continue = encodeContinue(rev, next, prefix)
					out.Remaining = resp.Count - int64(i) - 1
				}
				return out, nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return out, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
