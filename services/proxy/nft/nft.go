// Package nft programs the proxy's nftables table over netlink
// (github.com/google/nftables): it turns the rules package's layout and
// operations into one netlink batch per call, so every change is one
// atomic transaction of the kernel.
package nft

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"github.com/tugboat-sh/tugboat/services/proxy/rules"
	"golang.org/x/sys/unix"
)

// socketBuffer is the send and receive buffer the netlink socket asks
// for: a full sync of thousands of Services is one message of megabytes
// and the kernel acknowledges every object in it.
const socketBuffer = 256 << 20

// Table programs one nftables table of the ip family. Every transaction
// (and every listing) uses a Conn of its own: google/nftables keeps a
// queued batch and its first serialization error on a Conn for good, so a
// Conn that saw a failure, or a batch abandoned before Flush, would spoil
// every later transaction. A Conn without AsLasting opens its netlink
// socket in Flush anyway, so a fresh one costs an allocation.
type Table struct {
	opts  []nftables.ConnOption
	table *nftables.Table
	maps  map[string]*nftables.Set
	// stale chains were flushed by an earlier transaction and are deleted
	// by the next one: the kernel refuses to delete a chain in the
	// transaction that drops the last rule (an anonymous numgen map)
	// jumping to it.
	stale map[string]bool
}

// New returns a Table named name. netns, when not 0, is a file descriptor
// of the network namespace to program (tests); 0 is the caller's.
func New(name string, netns int) (*Table, error) {
	opts := []nftables.ConnOption{nftables.WithSockOptions(bigBuffers)}
	if netns != 0 {
		opts = append(opts, nftables.WithNetNSFd(netns))
	}
	if _, err := nftables.New(opts...); err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	t := &Table{opts: opts, table: &nftables.Table{Name: name, Family: nftables.TableFamilyIPv4}, maps: map[string]*nftables.Set{}, stale: map[string]bool{}}
	for _, m := range rules.Base(rules.Config{}).Maps {
		s, err := mapSet(t.table, m)
		if err != nil {
			return nil, err
		}
		t.maps[m.Name] = s
	}
	return t, nil
}

// conn returns a fresh Conn for one transaction.
func (t *Table) conn() (*nftables.Conn, error) {
	c, err := nftables.New(t.opts...)
	if err != nil {
		return nil, fmt.Errorf("nftables table %s: %w", t.table.Name, err)
	}
	return c, nil
}

// bigBuffers raises the socket's buffers past net.core.{r,w}mem_max when
// it may (root), and to the limit otherwise.
func bigBuffers(c *netlink.Conn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		for _, o := range [][2]int{{unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}, {unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}} {
			if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[0], socketBuffer); e != nil {
				if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[1], socketBuffer); e != nil {
					serr = e
				}
			}
		}
	})
	return errors.Join(err, serr)
}

func mapSet(t *nftables.Table, m rules.Map) (*nftables.Set, error) {
	var types []nftables.SetDatatype
	switch m.Key {
	case rules.KeyIPProtoPort:
		types = []nftables.SetDatatype{nftables.TypeIPAddr, nftables.TypeInetProto, nftables.TypeInetService}
	case rules.KeyProtoPort:
		types = []nftables.SetDatatype{nftables.TypeInetProto, nftables.TypeInetService}
	case rules.KeyHairpin:
		types = []nftables.SetDatatype{nftables.TypeIPAddr, nftables.TypeIPAddr, nftables.TypeInetProto, nftables.TypeInetService}
	}
	kt, err := nftables.ConcatSetType(types...)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", m.Name, err)
	}
	if m.Set {
		return &nftables.Set{Table: t, Name: m.Name, Concatenation: true, KeyType: kt}, nil
	}
	return &nftables.Set{Table: t, Name: m.Name, IsMap: true, Concatenation: true, KeyType: kt, DataType: nftables.TypeVerdict}, nil
}

// Name is the table's name.
func (t *Table) Name() string { return t.table.Name }

// Replace swaps the whole table for layout plus ops in one transaction:
// the table is created (if missing), deleted and built again, so packets
// see either the old rules or the new ones.
func (t *Table) Replace(layout rules.Layout, ops rules.Ops) error {
	if err := check(layout, ops); err != nil {
		return err
	}
	cc, err := t.conn()
	if err != nil {
		return err
	}
	cc.AddTable(t.table)
	cc.DelTable(t.table)
	cc.AddTable(t.table)
	maps := make(map[string]*nftables.Set, len(layout.Maps))
	for _, m := range layout.Maps {
		s, err := mapSet(t.table, m)
		if err != nil {
			return err
		}
		// A fresh copy: AddSet assigns the set an ID for this batch.
		if err := cc.AddSet(s, nil); err != nil {
			return fmt.Errorf("map %s: %w", m.Name, err)
		}
		maps[m.Name] = s
	}
	for _, c := range layout.Chains {
		cc.AddChain(t.chain(c.Name))
	}
	for _, bc := range layout.BaseChains {
		cc.AddChain(t.baseChain(bc))
	}
	for _, c := range layout.Chains {
		if err := t.addRules(cc, c.Name, c.Rules); err != nil {
			return err
		}
	}
	for _, bc := range layout.BaseChains {
		if err := t.addRules(cc, bc.Name, bc.Rules); err != nil {
			return err
		}
	}
	// The table was deleted and built again: no chain is stale any more
	// once this transaction succeeds.
	stale, oldMaps := t.stale, t.maps
	t.stale, t.maps = map[string]bool{}, maps
	if err := t.apply(cc, ops, false); err != nil {
		// The kernel kept the old table: keep what is known of it.
		t.stale, t.maps = stale, oldMaps
		return err
	}
	return nil
}

// check refuses, before anything is queued, a layout or ops whose
// numgen maps do not fit one netlink message.
func check(layout rules.Layout, ops rules.Ops) error {
	var errs []error
	for _, c := range layout.Chains {
		errs = append(errs, rules.CheckRules(c.Name, c.Rules))
	}
	for _, c := range layout.BaseChains {
		errs = append(errs, rules.CheckRules(c.Name, c.Rules))
	}
	for _, c := range ops.FillChains {
		errs = append(errs, rules.CheckRules(c.Name, c.Rules))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nftables batch refused: %w", err)
	}
	return nil
}

// Apply sends ops as one transaction, with the deletion of the chains
// earlier ones left empty.
func (t *Table) Apply(ops rules.Ops) error {
	if ops.Empty() && len(t.stale) == 0 {
		return nil
	}
	if err := check(rules.Layout{}, ops); err != nil {
		return err
	}
	cc, err := t.conn()
	if err != nil {
		return err
	}
	return t.apply(cc, ops, true)
}

// Stale is the number of chains flushed and not yet deleted.
func (t *Table) Stale() int { return len(t.stale) }

func (t *Table) apply(cc *nftables.Conn, ops rules.Ops, existing bool) error {
	added := make(map[string]bool, len(ops.AddChains))
	for _, name := range ops.AddChains {
		cc.AddChain(t.chain(name))
		added[name] = true
	}
	var deleted []string
	for name := range t.stale {
		if !added[name] {
			cc.DelChain(t.chain(name))
			deleted = append(deleted, name)
		}
	}
	for _, c := range ops.FillChains {
		if existing && !added[c.Name] {
			cc.FlushChain(t.chain(c.Name))
		}
		if err := t.addRules(cc, c.Name, c.Rules); err != nil {
			return err
		}
	}
	if err := t.elements(ops.DelElements, cc.SetDeleteElements); err != nil {
		return err
	}
	if err := t.elements(ops.AddElements, cc.SetAddElements); err != nil {
		return err
	}
	for _, name := range ops.DelChains {
		cc.FlushChain(t.chain(name))
	}
	if err := cc.Flush(); err != nil {
		return fmt.Errorf("nftables table %s: %w", t.table.Name, err)
	}
	for _, name := range deleted {
		delete(t.stale, name)
	}
	for name := range added {
		delete(t.stale, name)
	}
	for _, name := range ops.DelChains {
		t.stale[name] = true
	}
	return nil
}

func (t *Table) elements(els []rules.Element, op func(*nftables.Set, []nftables.SetElement) error) error {
	type batch struct {
		list []nftables.SetElement
		size int
	}
	by := map[string][]*batch{}
	var order []string
	for _, e := range els {
		el := nftables.SetElement{Key: e.Key}
		if e.Chain != "" {
			el.VerdictData = &expr.Verdict{Kind: expr.VerdictGoto, Chain: e.Chain}
		}
		bs := by[e.Map]
		if len(bs) == 0 {
			order = append(order, e.Map)
		}
		n := rules.ElemSize(e.Key, e.Chain)
		if len(bs) == 0 || bs[len(bs)-1].size+n > rules.MaxElemList {
			bs = append(bs, &batch{})
			by[e.Map] = bs
		}
		b := bs[len(bs)-1]
		b.list = append(b.list, el)
		b.size += n
	}
	for _, name := range order {
		s, ok := t.maps[name]
		if !ok {
			return fmt.Errorf("unknown map %q", name)
		}
		for _, b := range by[name] {
			if err := op(s, b.list); err != nil {
				return fmt.Errorf("map %s: %w", name, err)
			}
		}
	}
	return nil
}

func (t *Table) chain(name string) *nftables.Chain {
	return &nftables.Chain{Name: name, Table: t.table}
}

func (t *Table) baseChain(bc rules.BaseChain) *nftables.Chain {
	c := t.chain(bc.Name)
	c.Type = nftables.ChainTypeFilter
	if bc.NAT {
		c.Type = nftables.ChainTypeNAT
	}
	switch bc.Hook {
	case rules.HookPrerouting:
		c.Hooknum = nftables.ChainHookPrerouting
	case rules.HookOutput:
		c.Hooknum = nftables.ChainHookOutput
	case rules.HookPostrouting:
		c.Hooknum = nftables.ChainHookPostrouting
	case rules.HookInput:
		c.Hooknum = nftables.ChainHookInput
	}
	c.Priority = nftables.ChainPriorityRef(nftables.ChainPriority(bc.Priority))
	accept := nftables.ChainPolicyAccept
	c.Policy = &accept
	return c
}

// addRules queues c's rules; a rule with VMapTargets gets its anonymous
// "numgen random mod N" verdict map.
func (t *Table) addRules(cc *nftables.Conn, chain string, rs []rules.Rule) error {
	c := t.chain(chain)
	for _, r := range rs {
		exprs := r.Exprs
		if len(r.VMapTargets) > 0 {
			set := &nftables.Set{Table: t.table, Anonymous: true, Constant: true, IsMap: true,
				KeyType: nftables.TypeInteger, DataType: nftables.TypeVerdict, KeyByteOrder: binaryutil.NativeEndian}
			// check refused oversized maps before anything was queued.
			els := make([]nftables.SetElement, len(r.VMapTargets))
			for i, target := range r.VMapTargets {
				els[i] = nftables.SetElement{Key: binaryutil.NativeEndian.PutUint32(uint32(i)),
					VerdictData: &expr.Verdict{Kind: expr.VerdictGoto, Chain: target}}
			}
			if err := cc.AddSet(set, els); err != nil {
				return fmt.Errorf("chain %s: numgen map: %w", chain, err)
			}
			exprs = append(append([]expr.Any{}, exprs...),
				&expr.Numgen{Register: 1, Modulus: uint32(len(r.VMapTargets)), Type: unix.NFT_NG_RANDOM},
				&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID, IsDestRegSet: true})
		}
		cc.AddRule(&nftables.Rule{Table: t.table, Chain: c, Exprs: exprs})
	}
	return nil
}

// Delete removes the table; a table that does not exist is no error.
func (t *Table) Delete() error {
	cc, err := t.conn()
	if err != nil {
		return err
	}
	cc.AddTable(t.table)
	cc.DelTable(t.table)
	if err := cc.Flush(); err != nil {
		return fmt.Errorf("delete nftables table %s: %w", t.table.Name, err)
	}
	return nil
}

// Exists reports whether the table is in the kernel.
func (t *Table) Exists() (bool, error) {
	cc, err := t.conn()
	if err != nil {
		return false, err
	}
	_, err = cc.ListTableOfFamily(t.table.Name, nftables.TableFamilyIPv4)
	if errors.Is(err, syscall.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("list nftables table %s: %w", t.table.Name, err)
	}
	return true, nil
}
