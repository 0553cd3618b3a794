package pods

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Limits of a resolv.conf, as the kubelet keeps them (glibc reads at most
// three nameservers; search lists are bounded by count and length).
const (
	maxDNSNameservers  = 3
	maxDNSSearches     = 32
	maxDNSSearchLength = 2048
)

// DNS policies of a pod's spec.dnsPolicy.
const (
	dnsClusterFirst            = "ClusterFirst"
	dnsClusterFirstWithHostNet = "ClusterFirstWithHostNet"
	dnsDefault                 = "Default"
	dnsNone                    = "None"
)

// HostDNS is what the host's resolv.conf says.
type HostDNS struct {
	Servers, Searches, Options []string
}

// ParseResolvConf reads nameserver, search (and domain) and options lines;
// the last search or domain line wins, as in glibc. A search domain "."
// is dropped and trailing dots are trimmed.
func ParseResolvConf(r io.Reader) (HostDNS, error) {
	var h HostDNS
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				h.Servers = append(h.Servers, f[1])
			}
		case "search", "domain":
			h.Searches = nil
			for _, s := range f[1:] {
				if s != "." {
					h.Searches = append(h.Searches, strings.TrimSuffix(s, "."))
				}
			}
		case "options":
			h.Options = append(h.Options, f[1:]...)
		}
	}
	if err := sc.Err(); err != nil {
		return HostDNS{}, fmt.Errorf("read resolv.conf: %w", err)
	}
	return h, nil
}

// ReadResolvConf parses the file at path; an empty path or a missing file
// is an empty configuration.
func ReadResolvConf(path string) (HostDNS, error) {
	if path == "" {
		return HostDNS{}, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return HostDNS{}, nil
	}
	if err != nil {
		return HostDNS{}, fmt.Errorf("open resolv.conf: %w", err)
	}
	defer f.Close()
	return ParseResolvConf(f)
}

// DNSSettings are the node's DNS settings for its pods.
type DNSSettings struct {
	// ClusterDNS are the cluster DNS server addresses (--cluster-dns);
	// without any, ClusterFirst pods get the host's configuration.
	ClusterDNS []string
	// ClusterDomain is the cluster's DNS domain (--cluster-domain).
	ClusterDomain string
	// Host is the host's resolv.conf.
	Host HostDNS
}

// podDNS is the resolv.conf a pod gets, as the kubelet forms it from its
// dnsPolicy and dnsConfig:
//   - ClusterFirst (the default): the cluster DNS servers, the searches
//     <ns>.svc.<domain> svc.<domain> <domain> then the host's, ndots:5;
//     a hostNetwork pod gets the host's configuration instead, unless its
//     policy is ClusterFirstWithHostNet;
//   - Default: the host's configuration;
//   - None: nothing but the pod's dnsConfig.
//
// The pod's dnsConfig is then merged in: nameservers and searches
// appended without duplicates, options overriding those of the same name.
func podDNS(pod *corev1.Pod, s DNSSettings) *runtimeapi.DNSConfig {
	spec := pod.GetSpec()
	policy := spec.GetDnsPolicy()
	if policy == "" {
		policy = dnsClusterFirst
	}
	switch {
	case policy == dnsClusterFirstWithHostNet:
		policy = dnsClusterFirst
	case policy == dnsClusterFirst && spec.GetHostNetwork():
		policy = dnsDefault
	case policy == dnsClusterFirst && len(s.ClusterDNS) == 0:
		policy = dnsDefault
	}
	out := &runtimeapi.DNSConfig{}
	switch policy {
	case dnsClusterFirst:
		out.Servers = slices.Clone(s.ClusterDNS)
		out.Searches = s.Host.Searches
		if d := s.ClusterDomain; d != "" {
			ns := pod.GetMetadata().GetNamespace()
			out.Searches = append([]string{ns + ".svc." + d, "svc." + d, d}, s.Host.Searches...)
		}
		out.Options = []string{"ndots:5"}
	case dnsNone:
	default: // Default
		out.Servers = slices.Clone(s.Host.Servers)
		out.Searches = slices.Clone(s.Host.Searches)
		out.Options = slices.Clone(s.Host.Options)
	}
	if dc := spec.GetDnsConfig(); dc != nil {
		out.Servers = append(out.Servers, dc.GetNameservers()...)
		out.Searches = append(slices.Clone(out.Searches), dc.GetSearches()...)
		out.Options = mergeDNSOptions(out.Options, dc.GetOptions())
	}
	out.Servers = unique(out.Servers)
	if len(out.Servers) > maxDNSNameservers {
		out.Servers = out.Servers[:maxDNSNameservers]
	}
	out.Searches = fitSearches(unique(out.Searches))
	return out
}

// mergeDNSOptions adds the pod's options to the existing ones; an option
// of the same name replaces the existing one in place.
func mergeDNSOptions(existing []string, pod []*corev1.PodDNSConfigOption) []string {
	out := slices.Clone(existing)
	for _, o := range pod {
		opt := o.GetName()
		if o.Value != nil && o.GetValue() != "" {
			opt += ":" + o.GetValue()
		}
		i := slices.IndexFunc(out, func(e string) bool {
			name, _, _ := strings.Cut(e, ":")
			return name == o.GetName()
		})
		if i >= 0 {
			out[i] = opt
		} else {
			out = append(out, opt)
		}
	}
	return out
}

// fitSearches keeps the searches within resolv.conf's limits.
func fitSearches(s []string) []string {
	if len(s) > maxDNSSearches {
		s = s[:maxDNSSearches]
	}
	for len(s) > 0 && len(strings.Join(s, " ")) > maxDNSSearchLength {
		s = s[:len(s)-1]
	}
	return s
}

// unique drops empty and repeated entries, keeping the first of each.
func unique(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
