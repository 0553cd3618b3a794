package cluster

import (
	"fmt"
	"net"
)

// resolveAdvertise fills in the advertise address of a cluster that
// listens on every address (0.0.0.0 or ::) without --advertise-address:
// 127.0.0.1 in the join line and cluster-info would send other nodes to
// themselves, so it takes this host's address on the default route
// (routeAddr), and refuses when there is none.
func (c *Config) resolveAdvertise(routeAddr func(v6 bool) (net.IP, error)) error {
	if c.AdvertiseAddress != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(c.ListenAddress)
	if err != nil {
		return fmt.Errorf("--listen-address %q: want HOST:PORT: %w", c.ListenAddress, err)
	}
	ip := net.ParseIP(host)
	if host != "" && (ip == nil || !ip.IsUnspecified()) {
		return nil
	}
	addr, err := routeAddr(ip != nil && ip.To4() == nil)
	if err != nil {
		return fmt.Errorf("--listen-address %s listens on every address, and this host has no default route to take the address other nodes reach it at from (%v): pass --advertise-address <this host's IP>", c.ListenAddress, err)
	}
	c.AdvertiseAddress = addr.String()
	return nil
}

// localTarget is host:port the cluster's own components dial: the listen
// address, with 127.0.0.1 for an unspecified host (0.0.0.0, ::).
func (c Config) localTarget() (string, error) {
	host, port, err := net.SplitHostPort(c.ListenAddress)
	if err != nil {
		return "", fmt.Errorf("--listen-address %q: want HOST:PORT: %w", c.ListenAddress, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// advertisedTarget is host:port other nodes and users reach the apiserver
// at: the advertise address with the listen port, else localTarget.
func (c Config) advertisedTarget() (string, error) {
	local, err := c.localTarget()
	if err != nil || c.AdvertiseAddress == "" {
		return local, err
	}
	if net.ParseIP(c.AdvertiseAddress) == nil {
		return "", fmt.Errorf("--advertise-address %q is not an IP address", c.AdvertiseAddress)
	}
	_, port, _ := net.SplitHostPort(local)
	return net.JoinHostPort(c.AdvertiseAddress, port), nil
}

// extraSANs are the serving certificate's names besides its defaults:
// the listen host when it is an address, and the advertise address.
func (c Config) extraSANs() []string {
	var out []string
	host, _, err := net.SplitHostPort(c.ListenAddress)
	if ip := net.ParseIP(host); err == nil && ip != nil && !ip.IsUnspecified() {
		out = append(out, host)
	}
	if c.AdvertiseAddress != "" {
		out = append(out, c.AdvertiseAddress)
	}
	return out
}
