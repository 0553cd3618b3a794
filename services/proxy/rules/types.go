package rules

import (
	"net/netip"

	"github.com/google/nftables/expr"
)

// Names of the table's fixed objects.
const (
	ChainFilterPrerouting = "filter-prerouting"
	ChainFilterOutput     = "filter-output"
	ChainFilterInput      = "filter-input"
	ChainRejectPrerouting = "reject-prerouting"
	ChainRejectOutput     = "reject-output"
	ChainNATPrerouting    = "nat-prerouting"
	ChainNATOutput        = "nat-output"
	ChainNATPostrouting   = "nat-postrouting"
	ChainServices         = "services"
	ChainNoEndpoints      = "no-endpoints-check"
	ChainClusterIPsCheck  = "cluster-ips-check"
	ChainReject           = "reject-chain"
	ChainMarkMasq         = "mark-for-masquerade"
	ChainMasquerading     = "masquerading"

	MapServiceIPs       = "service-ips"
	MapServiceNodePorts = "service-nodeports"
	MapNoEndpoints      = "no-endpoint-services"
	MapNoEndpointPorts  = "no-endpoint-nodeports"
	// SetNodePorts holds proto . port of every NodePort with endpoints:
	// traffic to them is marked for masquerade before the
	// service-nodeports map sends it to the Service's chain.
	SetNodePorts = "nodeports"
	// SetHairpin holds endpoint . endpoint . proto . port for every
	// endpoint: a connection whose source is the endpoint it was DNATed
	// to (a pod reaching itself through its Service) matches it in
	// nat-postrouting and is masqueraded. Services sharing an endpoint
	// share its element, so the proxy reference-counts them.
	SetHairpin = "hairpin-endpoints"
)

// MasqMark is the packet mark bit that asks nat-postrouting to masquerade.
const MasqMark uint32 = 0x4000

// Config is what the generated rules depend on besides the Services.
type Config struct {
	// ServiceCIDR is rejected after DNAT: an address in it that no
	// Service port claims gets a reset or port-unreachable at once.
	ServiceCIDR netip.Prefix
	// ClusterCIDR, when valid, masquerades traffic to a ClusterIP from
	// outside it; otherwise only hairpin and NodePort traffic is.
	ClusterCIDR netip.Prefix
	// NodePortAddresses limit the local addresses NodePorts answer on;
	// empty means every local address. 127.0.0.0/8 is always served.
	NodePortAddresses []netip.Prefix
}

// Endpoint is one ready backend of a Service port.
type Endpoint struct {
	IP   netip.Addr
	Port uint16
}

// ServicePort is one port of one Service, with its ready endpoints: the
// unit the proxy programs.
type ServicePort struct {
	Namespace, Name string
	// PortName is the Service port's name; empty for a lone unnamed port.
	PortName  string
	Protocol  Protocol
	ClusterIP netip.Addr
	Port      uint16
	// NodePort is 0 unless the Service is of type NodePort (or LoadBalancer).
	NodePort  uint16
	Endpoints []Endpoint
}

// Protocol is an IP protocol number (TCP 6, UDP 17, SCTP 132).
type Protocol uint8

// Protocols the proxy serves.
const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

// String is the protocol's lower-case name, as in chain names.
func (p Protocol) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case SCTP:
		return "sctp"
	}
	return "unknown"
}

// Rule is one rule of a chain: its expressions and, when VMapTargets is
// set, a trailing "numgen random mod len(VMapTargets) vmap { i : goto
// VMapTargets[i] }" that the netlink layer builds as an anonymous map.
type Rule struct {
	Exprs       []expr.Any
	VMapTargets []string
}

// Chain is a regular (non-base) chain and its rules.
type Chain struct {
	Name  string
	Rules []Rule
}

// Element is one element of a named map (its verdict is "goto Chain") or,
// with Chain empty, of a named set.
type Element struct {
	Map   string
	Key   []byte
	Chain string
}

// Fragment is everything one Service port adds to the table.
type Fragment struct {
	Chains   []Chain
	Elements []Element
}

// RuleCount is the number of rules in f's chains.
func (f *Fragment) RuleCount() int {
	if f == nil {
		return 0
	}
	n := 0
	for _, c := range f.Chains {
		n += len(c.Rules)
	}
	return n
}
