// Package bench measures tug-dns against CoreDNS in one run: both serve
// the same 1,000 Service A records on 127.0.0.1 (CoreDNS from its file
// plugin, no cache), and one load generator of concurrent miekg/dns UDP
// clients sends each the same fixed number of queries. Run it with
// `make bench-dns`; it is not part of `make test`.
package bench
