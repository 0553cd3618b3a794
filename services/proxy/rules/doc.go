// Package rules turns the desired state of Services and their ready
// endpoints into nftables objects, without any I/O: Base builds the
// table's fixed chains and maps, Service builds one Service port's chains
// and map elements (a Fragment), and Diff compares two fragments into the
// operations that move the kernel from one to the other. The nft package
// sends the result over netlink.
//
// The layout follows kube-proxy's nftables mode: a service-ips verdict map
// keyed by ip daddr . l4proto . dport jumps to a per-service chain that
// balances with numgen random mod N over per-endpoint chains that DNAT; a
// service-nodeports map keyed by l4proto . dport serves local addresses; a
// no-endpoint-services map rejects before routing, as does any other
// address of the service CIDR after DNAT.
package rules
