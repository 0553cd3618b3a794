package zone

import (
	"strings"
	"sync"

	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// Index maps owner names to records. Services and Endpoints are fed in by
// informer handlers; each change rebuilds the records of that one Service.
// RRSets handed out by Lookup are never mutated afterwards.
type Index struct {
	domain string

	mu        sync.RWMutex
	services  map[string]*corev1.Service
	endpoints map[string]*corev1.Endpoints
	owned     map[string]map[string]*RRSet // service key -> name -> records
	names     map[string][]owner           // name -> the services holding records there
	ents      map[string]int               // empty non-terminals -> how many names below
}

type owner struct {
	key string
	rrs *RRSet
}

// NewIndex returns an empty index for domain, e.g. "cluster.local".
func NewIndex(domain string) *Index {
	return &Index{
		domain:    strings.ToLower(fqdn(domain)),
		services:  map[string]*corev1.Service{},
		endpoints: map[string]*corev1.Endpoints{},
		owned:     map[string]map[string]*RRSet{},
		names:     map[string][]owner{},
		ents:      map[string]int{},
	}
}

// Domain returns the cluster domain, fully qualified and lower case.
func (x *Index) Domain() string { return x.domain }

// SetService adds or replaces a Service.
func (x *Index) SetService(s *corev1.Service) {
	key := informer.Key(s.GetMetadata())
	x.mu.Lock()
	defer x.mu.Unlock()
	x.services[key] = s
	x.rebuild(key)
}

// DeleteService removes a Service and its records.
func (x *Index) DeleteService(s *corev1.Service) {
	key := informer.Key(s.GetMetadata())
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.services, key)
	x.rebuild(key)
}

// SetEndpoints adds or replaces the Endpoints of a Service.
func (x *Index) SetEndpoints(e *corev1.Endpoints) {
	key := informer.Key(e.GetMetadata())
	x.mu.Lock()
	defer x.mu.Unlock()
	x.endpoints[key] = e
	x.rebuild(key)
}

// DeleteEndpoints removes the Endpoints of a Service.
func (x *Index) DeleteEndpoints(e *corev1.Endpoints) {
	key := informer.Key(e.GetMetadata())
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.endpoints, key)
	x.rebuild(key)
}

// rebuild replaces the records of the Service key. x.mu is held.
func (x *Index) rebuild(key string) {
	for name := range x.owned[key] {
		x.remove(name, key)
	}
	delete(x.owned, key)
	svc, ok := x.services[key]
	if !ok {
		return
	}
	recs := Records(svc, x.endpoints[key], x.domain)
	x.owned[key] = recs
	for name, rrs := range recs {
		x.names[name] = append(x.names[name], owner{key, rrs})
		x.walkParents(name, 1)
	}
}

func (x *Index) remove(name, key string) {
	os := x.names[name]
	for i, o := range os {
		if o.key == key {
			os = append(os[:i:i], os[i+1:]...)
			break
		}
	}
	if len(os) == 0 {
		delete(x.names, name)
	} else {
		x.names[name] = os
	}
	x.walkParents(name, -1)
}

// walkParents counts name's ancestors below the zone's apex as empty
// non-terminals, which exist (NODATA) though they hold no records.
func (x *Index) walkParents(name string, d int) {
	zone := x.domain
	if !strings.HasSuffix(name, "."+zone) {
		return // a reverse name
	}
	for i := strings.IndexByte(name, '.'); i >= 0 && len(name[i+1:]) > len(zone); i = strings.IndexByte(name, '.') {
		name = name[i+1:]
		if x.ents[name] += d; x.ents[name] <= 0 {
			delete(x.ents, name)
		}
	}
}

// Lookup returns the records at name (lower case, fully qualified) and
// whether the name exists at all, with records or as an empty
// non-terminal.
func (x *Index) Lookup(name string) (*RRSet, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	os := x.names[name]
	switch len(os) {
	case 0:
		return nil, x.ents[name] > 0
	case 1:
		return os[0].rrs, true
	}
	merged := &RRSet{}
	for _, o := range os {
		merged.Addrs = append(merged.Addrs, o.rrs.Addrs...)
		merged.SRV = append(merged.SRV, o.rrs.SRV...)
		merged.PTR = append(merged.PTR, o.rrs.PTR...)
		if merged.CNAME == "" {
			merged.CNAME = o.rrs.CNAME
		}
	}
	return merged, true
}

// Len returns how many names hold records.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.names)
}
