package rules

import (
	"fmt"
)

// MaxElemList bounds the encoded size of the elements sent in one netlink
// message: a set's element list is one netlink attribute, whose length is
// 16 bits. A numgen verdict map is anonymous and constant, so all of its
// elements travel in the message that creates it.
const MaxElemList = 48 << 10

// ElemSize over-estimates the encoded size of one set element with key
// and, when chain is not empty, the verdict "goto chain".
func ElemSize(key []byte, chain string) int { return 64 + len(key) + len(chain) }

// numgenKeyLen is the length of a numgen map's key (a 32-bit integer).
const numgenKeyLen = 4

// VMapSize is the encoded size of a numgen map over targets.
func VMapSize(targets []string) int {
	n := 0
	for _, t := range targets {
		n += ElemSize(make([]byte, numgenKeyLen), t)
	}
	return n
}

// CheckRules returns an error naming chain when one of rs has a numgen
// map larger than one netlink message carries.
func CheckRules(chain string, rs []Rule) error {
	for _, r := range rs {
		if n := VMapSize(r.VMapTargets); n > MaxElemList {
			return fmt.Errorf("chain %s: numgen map of %d targets is %d bytes, more than the %d one netlink message carries",
				chain, len(r.VMapTargets), n, MaxElemList)
		}
	}
	return nil
}
