package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Route flags of /proc/net/route and /proc/net/ipv6_route.
const (
	rtfUp     = 0x0001
	rtfReject = 0x0200
)

// defaultRoute4 is the interface of the IPv4 default route with the
// lowest metric in a /proc/net/route table, if there is one.
func defaultRoute4(table []byte) (string, bool) {
	best, bestMetric := "", -1
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[0] == "Iface" {
			continue
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		metric, err2 := strconv.Atoi(f[6])
		if err1 != nil || err2 != nil || f[1] != "00000000" || f[7] != "00000000" || flags&rtfUp == 0 || flags&rtfReject != 0 {
			continue
		}
		if bestMetric < 0 || metric < bestMetric {
			best, bestMetric = f[0], metric
		}
	}
	return best, best != ""
}

// defaultRoute6 is the interface of the IPv6 default route with the
// lowest metric in a /proc/net/ipv6_route table (not a reject route, not
// on lo), if there is one.
func defaultRoute6(table []byte) (string, bool) {
	best, bestMetric := "", uint64(0)
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[0] != strings.Repeat("0", 32) || f[1] != "00" || f[9] == "lo" {
			continue
		}
		metric, err1 := strconv.ParseUint(f[5], 16, 32)
		flags, err2 := strconv.ParseUint(f[8], 16, 32)
		if err1 != nil || err2 != nil || flags&rtfUp == 0 || flags&rtfReject != 0 {
			continue
		}
		if best == "" || metric < bestMetric {
			best, bestMetric = f[9], metric
		}
	}
	return best, best != ""
}

// interfaceAddr is the first global unicast address of the family (v6
// or not) on the named interface.
func interfaceAddr(name string, v6 bool) (net.IP, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, err
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || !ipn.IP.IsGlobalUnicast() || (ipn.IP.To4() == nil) != v6 {
			continue
		}
		return ipn.IP, nil
	}
	return nil, fmt.Errorf("interface %s has no global address", name)
}

// errNoDefaultRoute: this host has no default route to take an address from.
var errNoDefaultRoute = errors.New("no default route")

// defaultRouteAddr is this host's address on its default route: IPv4
// first, IPv6 too when v6 (a listener on :: serves both). Nothing is
// sent; the kernel's routing table is read.
func defaultRouteAddr(v6 bool) (net.IP, error) {
	type family struct {
		table string
		find  func([]byte) (string, bool)
		v6    bool
	}
	fams := []family{{"/proc/net/route", defaultRoute4, false}}
	if v6 {
		fams = append(fams, family{"/proc/net/ipv6_route", defaultRoute6, true})
	}
	for _, f := range fams {
		b, err := os.ReadFile(f.table)
		if err != nil {
			continue
		}
		if ifc, ok := f.find(b); ok {
			if ip, err := interfaceAddr(ifc, f.v6); err == nil {
				return ip, nil
			}
		}
	}
	return nil, errNoDefaultRoute
}
