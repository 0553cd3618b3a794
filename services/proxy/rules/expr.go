package rules

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Registers: reg 1 is the 16-byte register whose first word is 32-bit
// register 8, so a concatenation loads into 8 (reg 1), 9 and 10.
const (
	reg1   = 1
	reg2   = 2
	reg32a = 8
	reg32b = 9
	reg32c = 10
)

func loadDaddr(reg uint32) expr.Any {
	return &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4}
}

func loadSaddr(reg uint32) expr.Any {
	return &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4}
}

func loadL4Proto(reg uint32) expr.Any { return &expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg} }

func loadDport(reg uint32) expr.Any {
	return &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2}
}

// vmapLookup is "<key in reg 1..> vmap @name".
func vmapLookup(name string) expr.Any {
	return &expr.Lookup{SourceRegister: reg1, SetName: name, IsDestRegSet: true, DestRegister: 0}
}

// daddrProtoPort loads ip daddr . meta l4proto . th dport.
func daddrProtoPort() []expr.Any {
	return []expr.Any{loadDaddr(reg32a), loadL4Proto(reg32b), loadDport(reg32c)}
}

// protoPort loads meta l4proto . th dport.
func protoPort() []expr.Any { return []expr.Any{loadL4Proto(reg32a), loadDport(reg32b)} }

// inPrefix is "<loaded address> & mask == net" (or != with neq).
func inPrefix(p netip.Prefix, neq bool) []expr.Any {
	p = p.Masked()
	mask := net4Mask(p.Bits())
	op := expr.CmpOpEq
	if neq {
		op = expr.CmpOpNeq
	}
	a := p.Addr().As4()
	return []expr.Any{
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4, Mask: mask, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: op, Register: reg1, Data: a[:]},
	}
}

func net4Mask(bits int) []byte {
	m := make([]byte, 4)
	binary.BigEndian.PutUint32(m, ^uint32(0)<<(32-bits))
	if bits == 0 {
		copy(m, []byte{0, 0, 0, 0})
	}
	return m
}

// ctStateNew is "ct state new".
func ctStateNew() []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: reg1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitNEW), Xor: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: reg1, Data: binaryutil.NativeEndian.PutUint32(0)},
	}
}

// fibLocal is "fib daddr type local".
func fibLocal() []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: reg1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
	}
}

func l4protoIs(p Protocol) []expr.Any {
	return []expr.Any{loadL4Proto(reg1), &expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{byte(p)}}}
}

func verdict(kind expr.VerdictKind, chain string) expr.Any {
	return &expr.Verdict{Kind: kind, Chain: chain}
}

func jump(chain string) expr.Any { return verdict(expr.VerdictJump, chain) }
func goTo(chain string) expr.Any { return verdict(expr.VerdictGoto, chain) }

// dnat is "meta l4proto P dnat to ip:port".
func dnat(p Protocol, ep Endpoint) []expr.Any {
	ip := ep.IP.As4()
	return append(l4protoIs(p),
		&expr.Immediate{Register: reg1, Data: ip[:]},
		&expr.Immediate{Register: reg2, Data: binaryutil.BigEndian.PutUint16(ep.Port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: reg1, RegProtoMin: reg2, Specified: true},
	)
}

// markForMasquerade is "meta mark set mark | 0x4000".
func markForMasquerade() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(^MasqMark), Xor: binaryutil.NativeEndian.PutUint32(MasqMark)},
		&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: reg1},
	}
}

// masquerading returns the masquerading chain's rules: hairpin
// connections are masqueraded; then unmarked packets return and marked
// ones lose the mark and are masqueraded.
func masquerading() []Rule {
	return []Rule{
		{Exprs: []expr.Any{
			loadSaddr(reg32a),
			loadDaddr(reg32b),
			loadL4Proto(reg32c),
			loadDport(reg32c + 1),
			&expr.Lookup{SourceRegister: reg1, SetName: SetHairpin},
			&expr.Masq{FullyRandom: true},
		}},
		{Exprs: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1},
			&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(MasqMark), Xor: binaryutil.NativeEndian.PutUint32(0)},
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: binaryutil.NativeEndian.PutUint32(0)},
			verdict(expr.VerdictReturn, ""),
		}},
		{Exprs: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1},
			&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(^uint32(0)), Xor: binaryutil.NativeEndian.PutUint32(MasqMark)},
			&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: reg1},
			&expr.Masq{FullyRandom: true},
		}},
	}
}

// icmpPortUnreachable is ICMP destination-unreachable code 3.
const icmpPortUnreachable = 3

// ipsDstNAT is the conntrack status bit of a DNATed connection.
const ipsDstNAT = 0x20

// martianLocalnet drops packets to 127.0.0.0/8 from other sources that
// were not DNATed (route_localnet would let them in; kube-proxy drops
// them too): "ip daddr 127.0.0.0/8 ip saddr != 127.0.0.0/8 ct status
// & dnat == 0 drop".
func martianLocalnet() []expr.Any {
	lo := netip.MustParsePrefix("127.0.0.0/8")
	return concat(
		[]expr.Any{loadDaddr(reg1)}, inPrefix(lo, false),
		[]expr.Any{loadSaddr(reg1)}, inPrefix(lo, true),
		[]expr.Any{
			&expr.Ct{Register: reg1, Key: expr.CtKeySTATUS},
			&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(ipsDstNAT), Xor: binaryutil.NativeEndian.PutUint32(0)},
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: binaryutil.NativeEndian.PutUint32(0)},
			&expr.Verdict{Kind: expr.VerdictDrop},
		})
}

// rejectRules are "meta l4proto tcp reject with tcp reset" then "reject"
// (ICMP port unreachable).
func rejectRules() []Rule {
	return []Rule{
		{Exprs: append(l4protoIs(TCP), &expr.Reject{Type: unix.NFT_REJECT_TCP_RST})},
		{Exprs: []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: icmpPortUnreachable}}},
	}
}

// ServiceKey is the service-ips key: ip . proto . port, each padded to 4 bytes.
func ServiceKey(ip netip.Addr, p Protocol, port uint16) []byte {
	a := ip.As4()
	k := make([]byte, 12)
	copy(k, a[:])
	k[4] = byte(p)
	binary.BigEndian.PutUint16(k[8:], port)
	return k
}

// HairpinKey is the hairpin-endpoints key of an endpoint: its address as
// source and destination, the protocol and its port (after DNAT).
func HairpinKey(ep Endpoint, p Protocol) []byte {
	a := ep.IP.As4()
	k := make([]byte, 16)
	copy(k, a[:])
	copy(k[4:], a[:])
	k[8] = byte(p)
	binary.BigEndian.PutUint16(k[12:], ep.Port)
	return k
}

// NodePortKey is the service-nodeports key: proto . port, padded.
func NodePortKey(p Protocol, port uint16) []byte {
	k := make([]byte, 8)
	k[0] = byte(p)
	binary.BigEndian.PutUint16(k[4:], port)
	return k
}
