package etcd

import (
	"fmt"
	"net"
	"net/url"
)

// urlOrFree parses s, or when s is empty picks a free loopback port.
func urlOrFree(s string) (*url.URL, error) {
	if s == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		s = "http://" + ln.Addr().String()
		_ = ln.Close()
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", s, err)
	}
	return u, nil
}
