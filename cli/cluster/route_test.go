package cluster

import (
	"errors"
	"net"
	"strings"
	"testing"
)

// TestDefaultRoute: the default route's interface is found in the
// kernel's tables (the lowest metric; not a reject route, not lo).
func TestDefaultRoute(t *testing.T) {
	const hdr = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	for _, tt := range []struct {
		name, table, want string
	}{
		{"one", hdr + "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", "eth0"},
		{"lowest metric", hdr + "wlan0\t00000000\t010200C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\neth1\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n", "eth1"},
		{"none", hdr + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", ""},
		{"down", hdr + "eth0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n", ""},
		{"empty", "", ""},
	} {
		t.Run("v4 "+tt.name, func(t *testing.T) {
			got, ok := defaultRoute4([]byte(tt.table))
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("defaultRoute4 = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
	zero := strings.Repeat("0", 32)
	row := func(dest, plen, metric, flags, ifc string) string {
		return dest + " " + plen + " " + zero + " 00 " + zero + " " + metric + " 00000001 00000000 " + flags + " " + ifc + "\n"
	}
	for _, tt := range []struct {
		name, table, want string
	}{
		{"one", row("fd"+zero[2:], "40", "00000100", "00000001", "eth0") + row(zero, "00", "00000400", "00000003", "eth0") + row(zero, "00", "ffffffff", "00200200", "lo"), "eth0"},
		{"reject on lo only", row(zero, "00", "ffffffff", "00200200", "lo"), ""},
		{"lowest metric", row(zero, "00", "00000400", "00000003", "eth0") + row(zero, "00", "00000100", "00000003", "eth1"), "eth1"},
		{"empty", "", ""},
	} {
		t.Run("v6 "+tt.name, func(t *testing.T) {
			got, ok := defaultRoute6([]byte(tt.table))
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("defaultRoute6 = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

// TestResolveAdvertise: a listener on every address without
// --advertise-address advertises the default route's address (in the
// join line, cluster-info and the serving certificate), or is refused
// with a message asking for --advertise-address; otherwise nothing
// changes.
func TestResolveAdvertise(t *testing.T) {
	route := func(v6 bool) (net.IP, error) {
		if v6 {
			return net.ParseIP("fd00::2"), nil
		}
		return net.ParseIP("192.0.2.10"), nil
	}
	noRoute := func(bool) (net.IP, error) { return nil, errNoDefaultRoute }
	for _, tt := range []struct {
		name, listen, advertise string
		route                   func(bool) (net.IP, error)
		wantTarget, wantErr     string
	}{
		{name: "loopback", listen: "127.0.0.1:6443", route: noRoute, wantTarget: "127.0.0.1:6443"},
		{name: "an address", listen: "192.0.2.7:6443", route: noRoute, wantTarget: "192.0.2.7:6443"},
		{name: "given", listen: "0.0.0.0:6443", advertise: "192.0.2.99", route: noRoute, wantTarget: "192.0.2.99:6443"},
		{name: "0.0.0.0", listen: "0.0.0.0:6443", route: route, wantTarget: "192.0.2.10:6443"},
		{name: "::", listen: "[::]:6443", route: route, wantTarget: "[fd00::2]:6443"},
		{name: "empty host", listen: ":6443", route: route, wantTarget: "192.0.2.10:6443"},
		{name: "0.0.0.0 without a route", listen: "0.0.0.0:6443", route: noRoute, wantErr: "--listen-address 0.0.0.0:6443 listens on every address, and this host has no default route to take the address other nodes reach it at from (no default route): pass --advertise-address"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.ListenAddress, c.AdvertiseAddress = tt.listen, tt.advertise
			err := c.resolveAdvertise(tt.route)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("resolveAdvertise = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.advertisedTarget()
			if err != nil || got != tt.wantTarget {
				t.Fatalf("advertisedTarget = %q, %v; want %q", got, err, tt.wantTarget)
			}
			if host, _, _ := net.SplitHostPort(got); host != "127.0.0.1" {
				found := false
				for _, san := range c.extraSANs() {
					found = found || san == host
				}
				if !found {
					t.Errorf("serving certificate SANs %v lack the advertised %s", c.extraSANs(), host)
				}
			}
		})
	}
}

// TestDefaultRouteAddr: on this machine the answer is an address of one
// of its interfaces, or errNoDefaultRoute.
func TestDefaultRouteAddr(t *testing.T) {
	ip, err := defaultRouteAddr(false)
	if errors.Is(err, errNoDefaultRoute) {
		return // a host without a default route: the refusal is TestResolveAdvertise's
	}
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return
		}
	}
	t.Fatalf("defaultRouteAddr = %s, not an address of this host (%v)", ip, addrs)
}
