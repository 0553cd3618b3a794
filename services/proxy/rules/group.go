package rules

import "fmt"

// Check returns an error when one of f's chains could not be programmed:
// its numgen map would not fit one netlink message even split in groups.
func (f *Fragment) Check() error {
	for _, c := range f.Chains {
		if err := CheckRules(c.Name, c.Rules); err != nil {
			return err
		}
	}
	return nil
}

// GroupChain names the g-th group chain of sp: a Service port with more
// endpoints than one numgen map holds balances over groups of them.
func GroupChain(sp *ServicePort, g int) string {
	return chainName("group", fmt.Sprintf("%s#%d", sp.ID(), g))
}

// groups splits targets round-robin into the fewest groups whose numgen
// maps each fit one message; nil when one map holds them all. Groups
// differ in size by one at most, so the two-level choice (a group at
// random, then an endpoint of it at random) is uniform within 1/size.
func groups(targets []string) [][]string {
	total := VMapSize(targets)
	if total <= MaxElemList {
		return nil
	}
	for n := (total + MaxElemList - 1) / MaxElemList; n <= len(targets); n++ {
		gs := make([][]string, n)
		for i, t := range targets {
			gs[i%n] = append(gs[i%n], t)
		}
		fits := true
		for _, g := range gs {
			if VMapSize(g) > MaxElemList {
				fits = false
				break
			}
		}
		if fits {
			return gs
		}
	}
	return nil
}
