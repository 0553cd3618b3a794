package rules

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/netip"

	"github.com/google/nftables/expr"
)

// Hook says where a base chain hangs.
type Hook int

// Hooks of the base chains.
const (
	HookPrerouting Hook = iota
	HookOutput
	HookPostrouting
	HookInput
)

// BaseChain is a chain attached to a netfilter hook.
type BaseChain struct {
	Name     string
	Hook     Hook
	NAT      bool // type nat; type filter otherwise
	Priority int32
	Rules    []Rule
}

// KeyKind is the key type of a named map or set.
type KeyKind int

// Key kinds.
const (
	// KeyIPProtoPort is ipv4_addr . inet_proto . inet_service.
	KeyIPProtoPort KeyKind = iota
	// KeyProtoPort is inet_proto . inet_service.
	KeyProtoPort
	// KeyHairpin is ipv4_addr . ipv4_addr . inet_proto . inet_service.
	KeyHairpin
)

// Map names a verdict map, or a plain set when Set is true.
type Map struct {
	Name string
	Key  KeyKind
	Set  bool
}

// Layout is the fixed part of the table.
type Layout struct {
	Maps       []Map
	Chains     []Chain
	BaseChains []BaseChain
}

// Priorities: the reject-before-NAT filter runs at dstnat-10, NAT at
// dstnat (-100), the service-CIDR reject at dstnat+10, all before routing.
const (
	PriorityFilterPreNAT  int32 = -110
	PriorityNAT           int32 = -100
	PriorityFilterPostNAT int32 = -90
	PrioritySrcNAT        int32 = 100
)

// Base returns the table's fixed maps and chains for cfg.
func Base(cfg Config) Layout {
	l := Layout{
		Maps: []Map{
			{Name: MapServiceIPs, Key: KeyIPProtoPort},
			{Name: MapServiceNodePorts, Key: KeyProtoPort},
			{Name: MapNoEndpoints, Key: KeyIPProtoPort},
			{Name: MapNoEndpointPorts, Key: KeyProtoPort},
			{Name: SetNodePorts, Key: KeyProtoPort, Set: true},
			{Name: SetHairpin, Key: KeyHairpin, Set: true},
		},
	}
	noEP := []Rule{{Exprs: append(daddrProtoPort(), vmapLookup(MapNoEndpoints))}}
	var services []Rule
	if cfg.ClusterCIDR.IsValid() && cfg.ServiceCIDR.IsValid() {
		// Traffic to a ClusterIP from outside the cluster CIDR is
		// masqueraded, so that replies come back through this node. One
		// rule for all Services: what matches no Service is rejected
		// after DNAT anyway.
		services = append(services, Rule{Exprs: concat(
			[]expr.Any{loadDaddr(reg1)}, inPrefix(cfg.ServiceCIDR, false),
			[]expr.Any{loadSaddr(reg1)}, inPrefix(cfg.ClusterCIDR, true),
			[]expr.Any{jump(ChainMarkMasq)})})
	}
	services = append(services, Rule{Exprs: append(daddrProtoPort(), vmapLookup(MapServiceIPs))})
	for _, sel := range nodePortSelectors(cfg.NodePortAddresses) {
		noEP = append(noEP, Rule{Exprs: concat(sel, protoPort(), []expr.Any{vmapLookup(MapNoEndpointPorts)})})
		services = append(services,
			Rule{Exprs: concat(sel, protoPort(), []expr.Any{&expr.Lookup{SourceRegister: reg1, SetName: SetNodePorts}, jump(ChainMarkMasq)})},
			Rule{Exprs: concat(sel, protoPort(), []expr.Any{vmapLookup(MapServiceNodePorts)})})
	}
	var clusterIPs []Rule
	if cfg.ServiceCIDR.IsValid() {
		clusterIPs = []Rule{{Exprs: concat([]expr.Any{loadDaddr(reg1)}, inPrefix(cfg.ServiceCIDR, false), []expr.Any{goTo(ChainReject)})}}
	}
	l.Chains = []Chain{
		{Name: ChainReject, Rules: rejectRules()},
		{Name: ChainMarkMasq, Rules: []Rule{{Exprs: markForMasquerade()}}},
		{Name: ChainMasquerading, Rules: masquerading()},
		{Name: ChainNoEndpoints, Rules: noEP},
		{Name: ChainClusterIPsCheck, Rules: clusterIPs},
		{Name: ChainServices, Rules: services},
	}
	newJump := func(c string) []Rule { return []Rule{{Exprs: append(ctStateNew(), jump(c))}} }
	jumpTo := func(c string) []Rule { return []Rule{{Exprs: []expr.Any{jump(c)}}} }
	l.BaseChains = []BaseChain{
		{Name: ChainFilterPrerouting, Hook: HookPrerouting, Priority: PriorityFilterPreNAT, Rules: newJump(ChainNoEndpoints)},
		{Name: ChainFilterOutput, Hook: HookOutput, Priority: PriorityFilterPreNAT, Rules: newJump(ChainNoEndpoints)},
		{Name: ChainNATPrerouting, Hook: HookPrerouting, NAT: true, Priority: PriorityNAT, Rules: jumpTo(ChainServices)},
		{Name: ChainNATOutput, Hook: HookOutput, NAT: true, Priority: PriorityNAT, Rules: jumpTo(ChainServices)},
		{Name: ChainRejectPrerouting, Hook: HookPrerouting, Priority: PriorityFilterPostNAT, Rules: jumpTo(ChainClusterIPsCheck)},
		{Name: ChainRejectOutput, Hook: HookOutput, Priority: PriorityFilterPostNAT, Rules: jumpTo(ChainClusterIPsCheck)},
		{Name: ChainNATPostrouting, Hook: HookPostrouting, NAT: true, Priority: PrioritySrcNAT, Rules: jumpTo(ChainMasquerading)},
		{Name: ChainFilterInput, Hook: HookInput, Priority: 0, Rules: []Rule{{Exprs: martianLocalnet()}}},
	}
	return l
}

// nodePortSelectors are the conditions under which a destination is a
// NodePort address: "fib daddr type local", narrowed to each of the
// --nodeport-addresses CIDRs and 127.0.0.0/8 when there are any.
func nodePortSelectors(cidrs []netip.Prefix) [][]expr.Any {
	if len(cidrs) == 0 {
		return [][]expr.Any{fibLocal()}
	}
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	all := append([]netip.Prefix{loopback}, cidrs...)
	var out [][]expr.Any
	for i, p := range all {
		if i > 0 && p.Masked() == loopback {
			continue
		}
		out = append(out, concat(fibLocal(), []expr.Any{loadDaddr(reg1)}, inPrefix(p, false)))
	}
	return out
}

func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ID is "namespace/name/proto/portname", the readable part of chain names.
func (sp *ServicePort) ID() string {
	return fmt.Sprintf("%s/%s/%s/%s", sp.Namespace, sp.Name, sp.Protocol, sp.PortName)
}

// chainName is prefix-HASH-readable, unique by the hash of the full id and
// within nftables' 256-byte name limit.
func chainName(prefix, id string) string {
	sum := sha256.Sum256([]byte(id))
	h := base32.StdEncoding.EncodeToString(sum[:])[:8]
	if len(id) > 200 {
		id = id[:200]
	}
	return prefix + "-" + h + "-" + id
}

// ServiceChain and EndpointChain name sp's chains.
func ServiceChain(sp *ServicePort) string { return chainName("service", sp.ID()) }

// EndpointChain names the chain of one of sp's endpoints.
func EndpointChain(sp *ServicePort, ep Endpoint) string {
	return chainName("endpoint", fmt.Sprintf("%s__%s/%d", sp.ID(), ep.IP, ep.Port))
}

// Service builds sp's chains and map elements. With no endpoints it adds
// only reject elements; with endpoints, a service chain balancing over
// one endpoint chain per endpoint (through group chains when one numgen
// map cannot hold them all); a NodePort leads to the same service
// chain, its traffic marked for masquerade on the way.
func Service(cfg Config, sp *ServicePort) *Fragment {
	f := &Fragment{}
	key := ServiceKey(sp.ClusterIP, sp.Protocol, sp.Port)
	if len(sp.Endpoints) == 0 {
		f.Elements = append(f.Elements, Element{Map: MapNoEndpoints, Key: key, Chain: ChainReject})
		if sp.NodePort != 0 {
			f.Elements = append(f.Elements, Element{Map: MapNoEndpointPorts, Key: NodePortKey(sp.Protocol, sp.NodePort), Chain: ChainReject})
		}
		return f
	}
	svc := Chain{Name: ServiceChain(sp)}
	targets := make([]string, len(sp.Endpoints))
	var eps []Chain
	for i, ep := range sp.Endpoints {
		targets[i] = EndpointChain(sp, ep)
		eps = append(eps, Chain{Name: targets[i], Rules: []Rule{{Exprs: dnat(sp.Protocol, ep)}}})
		f.Elements = append(f.Elements, Element{Map: SetHairpin, Key: HairpinKey(ep, sp.Protocol)})
	}
	// More endpoints than one numgen map holds: the service chain picks a
	// group chain at random and the group an endpoint. A Service too
	// large even for that keeps one map, which Check refuses.
	gs := groups(targets)
	var groupChains []Chain
	if gs != nil {
		names := make([]string, len(gs))
		for g, members := range gs {
			names[g] = GroupChain(sp, g)
			groupChains = append(groupChains, Chain{Name: names[g], Rules: []Rule{{VMapTargets: members}}})
		}
		targets = names
	}
	svc.Rules = append(svc.Rules, Rule{VMapTargets: targets})
	f.Chains = append(f.Chains, svc)
	f.Chains = append(f.Chains, groupChains...)
	f.Chains = append(f.Chains, eps...)
	f.Elements = append(f.Elements, Element{Map: MapServiceIPs, Key: key, Chain: svc.Name})
	if sp.NodePort != 0 {
		k := NodePortKey(sp.Protocol, sp.NodePort)
		f.Elements = append(f.Elements, Element{Map: SetNodePorts, Key: k}, Element{Map: MapServiceNodePorts, Key: k, Chain: svc.Name})
	}
	return f
}
