package framework

// anyIP is the wildcard host IP: a port bound on it conflicts with the
// same port on every IP.
const anyIP = "0.0.0.0"

// HostPort is a port a container binds on its node.
type HostPort struct {
	// IP is the host IP, "0.0.0.0" for every address.
	IP string
	// Protocol is TCP, UDP or SCTP.
	Protocol string
	Port     int32
}

// NewHostPort fills in the defaults of a container port: every IP, TCP.
func NewHostPort(ip, protocol string, port int32) HostPort {
	if ip == "" {
		ip = anyIP
	}
	if protocol == "" {
		protocol = "TCP"
	}
	return HostPort{IP: ip, Protocol: protocol, Port: port}
}

// protoPort is a port without its IP.
type protoPort struct {
	protocol string
	port     int32
}

// HostPortSet is the set of host ports in use on a node, counted so that
// two pods binding one port (a conflict the scheduler was not told of)
// can be removed one at a time.
type HostPortSet map[string]map[protoPort]int

// Add records p as used.
func (s HostPortSet) Add(p HostPort) {
	m := s[p.IP]
	if m == nil {
		m = map[protoPort]int{}
		s[p.IP] = m
	}
	m[protoPort{p.Protocol, p.Port}]++
}

// Remove forgets one use of p.
func (s HostPortSet) Remove(p HostPort) {
	m := s[p.IP]
	pp := protoPort{p.Protocol, p.Port}
	if m[pp] <= 1 {
		delete(m, pp)
		if len(m) == 0 {
			delete(s, p.IP)
		}
		return
	}
	m[pp]--
}

// Conflicts reports whether binding p would clash with a port in use: the
// same protocol and port on the same IP, or on the wildcard IP on either
// side.
func (s HostPortSet) Conflicts(p HostPort) bool {
	pp := protoPort{p.Protocol, p.Port}
	if p.IP == anyIP {
		for _, m := range s {
			if m[pp] > 0 {
				return true
			}
		}
		return false
	}
	return s[p.IP][pp] > 0 || s[anyIP][pp] > 0
}

// Len returns the number of distinct ports in use.
func (s HostPortSet) Len() int {
	n := 0
	for _, m := range s {
		n += len(m)
	}
	return n
}

// Clone returns a copy that shares nothing with s.
func (s HostPortSet) Clone() HostPortSet {
	out := make(HostPortSet, len(s))
	for ip, m := range s {
		c := make(map[protoPort]int, len(m))
		for k, v := range m {
			c[k] = v
		}
		out[ip] = c
	}
	return out
}
