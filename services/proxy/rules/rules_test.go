package rules

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables/expr"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

var testCfg = Config{
	ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"),
	ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"),
}

func service(typ, clusterIP string, ports ...*corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec:     &corev1.ServiceSpec{Type: typ, ClusterIp: clusterIP, Ports: ports, Selector: map[string]string{"app": "web"}},
	}
}

func port(name, proto string, p, nodePort int32, target any) *corev1.ServicePort {
	tp, _ := structpb.NewValue(target)
	return &corev1.ServicePort{Name: name, Protocol: proto, Port: p, NodePort: nodePort, TargetPort: tp}
}

func endpoints(subsets ...*corev1.EndpointSubset) *corev1.Endpoints {
	return &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"}, Subsets: subsets}
}

func subset(ready, notReady []string, ports ...*corev1.EndpointPort) *corev1.EndpointSubset {
	ss := &corev1.EndpointSubset{Ports: ports}
	for _, ip := range ready {
		ss.Addresses = append(ss.Addresses, &corev1.EndpointAddress{Ip: ip})
	}
	for _, ip := range notReady {
		ss.NotReadyAddresses = append(ss.NotReadyAddresses, &corev1.EndpointAddress{Ip: ip})
	}
	return ss
}

func epPort(name, proto string, p int32) *corev1.EndpointPort {
	return &corev1.EndpointPort{Name: name, Protocol: proto, Port: p}
}

// render describes a fragment in nft-like words: its elements, then each
// chain's DNAT targets and balancing map.
func render(f *Fragment) []string {
	var out []string
	for _, e := range f.Elements {
		if e.Chain == "" {
			out = append(out, fmt.Sprintf("%s: %s", e.Map, key(e.Key)))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s -> %s", e.Map, key(e.Key), short(e.Chain)))
	}
	for _, c := range f.Chains {
		for _, r := range c.Rules {
			if len(r.VMapTargets) > 0 {
				var ts []string
				for _, t := range r.VMapTargets {
					ts = append(ts, short(t))
				}
				out = append(out, fmt.Sprintf("%s: numgen mod %d -> %s", short(c.Name), len(ts), strings.Join(ts, ",")))
			}
			var ip netip.Addr
			for _, x := range r.Exprs {
				switch x := x.(type) {
				case *expr.Immediate:
					if len(x.Data) == 4 {
						ip = netip.AddrFrom4([4]byte(x.Data))
					} else if len(x.Data) == 2 {
						out = append(out, fmt.Sprintf("%s: dnat %s", short(c.Name), netip.AddrPortFrom(ip, binary.BigEndian.Uint16(x.Data))))
					}
				case *expr.Verdict:
					if x.Chain == ChainMarkMasq {
						out = append(out, short(c.Name)+": masquerade mark")
					}
				}
			}
		}
	}
	return out
}

// short drops a chain name's hash.
func short(name string) string {
	parts := strings.SplitN(name, "-", 3)
	if len(parts) == 3 && len(parts[1]) == 8 {
		return parts[0] + ":" + parts[2]
	}
	return name
}

func key(k []byte) string {
	switch len(k) {
	case 16:
		return fmt.Sprintf("%s . %s . %s . %d", netip.AddrFrom4([4]byte(k[:4])), netip.AddrFrom4([4]byte(k[4:8])), Protocol(k[8]),
			binary.BigEndian.Uint16(k[12:]))
	case 12:
		return fmt.Sprintf("%s . %s . %d", netip.AddrFrom4([4]byte(k[:4])), Protocol(k[4]), binary.BigEndian.Uint16(k[8:]))
	}
	return fmt.Sprintf("%s . %d", Protocol(k[0]), binary.BigEndian.Uint16(k[4:]))
}

func TestServiceRules(t *testing.T) {
	tests := []struct {
		name string
		svc  *corev1.Service
		ep   *corev1.Endpoints
		want []string
	}{{
		name: "ClusterIP balances over ready endpoints only",
		svc:  service("ClusterIP", "10.96.0.20", port("", "TCP", 80, 0, 8080)),
		ep:   endpoints(subset([]string{"10.244.1.3", "10.244.1.2"}, []string{"10.244.1.9"}, epPort("", "TCP", 8080))),
		want: []string{
			"hairpin-endpoints: 10.244.1.2 . 10.244.1.2 . tcp . 8080",
			"hairpin-endpoints: 10.244.1.3 . 10.244.1.3 . tcp . 8080",
			"service-ips: 10.96.0.20 . tcp . 80 -> service:default/web/tcp/",
			"service:default/web/tcp/: numgen mod 2 -> endpoint:default/web/tcp/__10.244.1.2/8080,endpoint:default/web/tcp/__10.244.1.3/8080",
			"endpoint:default/web/tcp/__10.244.1.2/8080: dnat 10.244.1.2:8080",
			"endpoint:default/web/tcp/__10.244.1.3/8080: dnat 10.244.1.3:8080",
		},
	}, {
		name: "NodePort leads to the service chain and is masqueraded",
		svc:  service("NodePort", "10.96.0.21", port("http", "TCP", 80, 30080, "http")),
		ep:   endpoints(subset([]string{"10.244.1.2"}, nil, epPort("http", "TCP", 8080))),
		want: []string{
			"hairpin-endpoints: 10.244.1.2 . 10.244.1.2 . tcp . 8080",
			"service-ips: 10.96.0.21 . tcp . 80 -> service:default/web/tcp/http",
			"nodeports: tcp . 30080",
			"service-nodeports: tcp . 30080 -> service:default/web/tcp/http",
			"service:default/web/tcp/http: numgen mod 1 -> endpoint:default/web/tcp/http__10.244.1.2/8080",
			"endpoint:default/web/tcp/http__10.244.1.2/8080: dnat 10.244.1.2:8080",
		},
	}, {
		name: "no ready endpoints rejects the ClusterIP and the NodePort",
		svc:  service("NodePort", "10.96.0.22", port("", "TCP", 80, 30081, 8080)),
		ep:   endpoints(subset(nil, []string{"10.244.1.9"}, epPort("", "TCP", 8080))),
		want: []string{
			"no-endpoint-services: 10.96.0.22 . tcp . 80 -> reject-chain",
			"no-endpoint-nodeports: tcp . 30081 -> reject-chain",
		},
	}, {
		name: "no Endpoints object rejects",
		svc:  service("", "10.96.0.23", port("", "UDP", 53, 0, 53)),
		want: []string{"no-endpoint-services: 10.96.0.23 . udp . 53 -> reject-chain"},
	}, {
		name: "headless is skipped",
		svc:  service("ClusterIP", "None", port("", "TCP", 80, 0, 80)),
		ep:   endpoints(subset([]string{"10.244.1.2"}, nil, epPort("", "TCP", 80))),
	}, {
		name: "ExternalName is skipped",
		svc:  &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "example.com"}},
	}, {
		name: "named ports pick their own subsets and numbers",
		svc:  service("ClusterIP", "10.96.0.24", port("http", "TCP", 80, 0, "web"), port("metrics", "TCP", 9090, 0, "metrics")),
		ep: endpoints(
			subset([]string{"10.244.1.2"}, nil, epPort("http", "TCP", 8080), epPort("metrics", "TCP", 9100)),
			subset([]string{"10.244.2.2"}, nil, epPort("http", "TCP", 8081)),
		),
		want: []string{
			"hairpin-endpoints: 10.244.1.2 . 10.244.1.2 . tcp . 8080",
			"hairpin-endpoints: 10.244.2.2 . 10.244.2.2 . tcp . 8081",
			"service-ips: 10.96.0.24 . tcp . 80 -> service:default/web/tcp/http",
			"service:default/web/tcp/http: numgen mod 2 -> endpoint:default/web/tcp/http__10.244.1.2/8080,endpoint:default/web/tcp/http__10.244.2.2/8081",
			"endpoint:default/web/tcp/http__10.244.1.2/8080: dnat 10.244.1.2:8080",
			"endpoint:default/web/tcp/http__10.244.2.2/8081: dnat 10.244.2.2:8081",
			"hairpin-endpoints: 10.244.1.2 . 10.244.1.2 . tcp . 9100",
			"service-ips: 10.96.0.24 . tcp . 9090 -> service:default/web/tcp/metrics",
			"service:default/web/tcp/metrics: numgen mod 1 -> endpoint:default/web/tcp/metrics__10.244.1.2/9100",
			"endpoint:default/web/tcp/metrics__10.244.1.2/9100: dnat 10.244.1.2:9100",
		},
	}, {
		name: "UDP and TCP on one port number stay apart",
		svc:  service("ClusterIP", "10.96.0.10", port("dns", "UDP", 53, 0, 5353), port("dns-tcp", "TCP", 53, 0, 5353)),
		ep:   endpoints(subset([]string{"10.244.1.5"}, nil, epPort("dns", "UDP", 5353), epPort("dns-tcp", "TCP", 5353))),
		want: []string{
			"hairpin-endpoints: 10.244.1.5 . 10.244.1.5 . udp . 5353",
			"service-ips: 10.96.0.10 . udp . 53 -> service:default/web/udp/dns",
			"service:default/web/udp/dns: numgen mod 1 -> endpoint:default/web/udp/dns__10.244.1.5/5353",
			"endpoint:default/web/udp/dns__10.244.1.5/5353: dnat 10.244.1.5:5353",
			"hairpin-endpoints: 10.244.1.5 . 10.244.1.5 . tcp . 5353",
			"service-ips: 10.96.0.10 . tcp . 53 -> service:default/web/tcp/dns-tcp",
			"service:default/web/tcp/dns-tcp: numgen mod 1 -> endpoint:default/web/tcp/dns-tcp__10.244.1.5/5353",
			"endpoint:default/web/tcp/dns-tcp__10.244.1.5/5353: dnat 10.244.1.5:5353",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ports, err := FromAPI(tt.svc, tt.ep)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := range ports {
				got = append(got, render(Service(testCfg, &ports[i]))...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestFromAPIRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, wantErr string
		svc           *corev1.Service
	}{
		{"IPv6 clusterIP", `clusterIP "fd00::1" is not an IPv4 address`, service("ClusterIP", "fd00::1", port("", "TCP", 80, 0, 80))},
		{"garbage clusterIP", `clusterIP "ten" is not an IPv4 address`, service("ClusterIP", "ten", port("", "TCP", 80, 0, 80))},
		{"unknown protocol", `unsupported protocol "ICMP"`, service("ClusterIP", "10.96.0.5", port("x", "ICMP", 80, 0, 80))},
		{"port out of range", "port 70000 or nodePort 0 out of range", service("ClusterIP", "10.96.0.5", port("x", "TCP", 70000, 0, 80))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromAPI(tt.svc, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "default/web") {
				t.Fatalf("err = %v, want one naming default/web and %q", err, tt.wantErr)
			}
		})
	}
}

func TestClusterCIDRMasquerade(t *testing.T) {
	servicesChain := func(cfg Config) Chain {
		for _, c := range Base(cfg).Chains {
			if c.Name == ChainServices {
				return c
			}
		}
		t.Fatal("no services chain")
		return Chain{}
	}
	marks := func(c Chain) bool {
		for _, r := range c.Rules {
			if v, ok := r.Exprs[len(r.Exprs)-1].(*expr.Verdict); ok && v.Chain == ChainMarkMasq {
				// The rule tests daddr against the service CIDR and
				// saddr against the cluster CIDR, negated.
				var nets []string
				for _, x := range r.Exprs {
					if c, ok := x.(*expr.Cmp); ok {
						nets = append(nets, fmt.Sprint(c.Op == expr.CmpOpNeq, netip.AddrFrom4([4]byte(c.Data))))
					}
				}
				return slices.Equal(nets, []string{"false 10.96.0.0", "true 10.244.0.0"})
			}
		}
		return false
	}
	if !marks(servicesChain(testCfg)) {
		t.Fatalf("with a cluster CIDR, ClusterIP traffic from outside it is marked: %+v", servicesChain(testCfg))
	}
	if marks(servicesChain(Config{ServiceCIDR: testCfg.ServiceCIDR})) {
		t.Fatal("without a cluster CIDR nothing is marked in the services chain")
	}
}

func TestBaseNodePortSelectors(t *testing.T) {
	tests := []struct {
		name  string
		cidrs []string
		want  int // rules in the services chain
		nets  []string
	}{
		{"all local addresses", nil, 4, nil},
		{"one CIDR plus localhost", []string{"192.0.2.0/24"}, 6, []string{"127.0.0.0", "127.0.0.0", "192.0.2.0", "192.0.2.0"}},
		{"localhost given twice counts once", []string{"127.0.0.0/8", "198.51.100.7/32"}, 6, []string{"127.0.0.0", "127.0.0.0", "198.51.100.7", "198.51.100.7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testCfg
			for _, c := range tt.cidrs {
				cfg.NodePortAddresses = append(cfg.NodePortAddresses, netip.MustParsePrefix(c))
			}
			l := Base(cfg)
			var services Chain
			for _, c := range l.Chains {
				if c.Name == ChainServices {
					services = c
				}
			}
			if len(services.Rules) != tt.want {
				t.Fatalf("services chain has %d rules, want %d", len(services.Rules), tt.want)
			}
			var nets []string
			for _, r := range services.Rules[2:] {
				for i, x := range r.Exprs {
					if _, masked := r.Exprs[max(i-1, 0)].(*expr.Bitwise); !masked {
						continue
					}
					if c, ok := x.(*expr.Cmp); ok && len(c.Data) == 4 {
						nets = append(nets, netip.AddrFrom4([4]byte(c.Data)).String())
					}
				}
			}
			if !slices.Equal(nets, tt.nets) {
				t.Fatalf("nodeport networks %v, want %v", nets, tt.nets)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	sp := &ServicePort{Namespace: "a", Name: "b", Protocol: TCP, ClusterIP: netip.MustParseAddr("10.96.0.9"), Port: 80,
		Endpoints: []Endpoint{{IP: netip.MustParseAddr("10.244.0.9"), Port: 80}, {IP: netip.MustParseAddr("10.244.0.10"), Port: 80}}}
	two := Service(testCfg, sp)
	one := *sp
	one.Endpoints = sp.Endpoints[:1]
	oneF := Service(testCfg, &one)
	none := *sp
	none.Endpoints = nil
	noneF := Service(testCfg, &none)

	t.Run("unchanged is empty", func(t *testing.T) {
		if o := Diff(two, Service(testCfg, sp)); !o.Empty() {
			t.Fatalf("ops %+v", o)
		}
	})
	t.Run("added service creates all", func(t *testing.T) {
		o := Diff(nil, two)
		if len(o.AddChains) != 3 || len(o.FillChains) != 3 || len(o.AddElements) != 3 || len(o.DelChains)+len(o.DelElements) != 0 {
			t.Fatalf("ops %+v", o)
		}
	})
	t.Run("endpoint removed refills the service chain and drops one chain", func(t *testing.T) {
		o := Diff(two, oneF)
		if len(o.AddChains) != 0 || len(o.FillChains) != 1 || o.FillChains[0].Name != ServiceChain(sp) ||
			!reflect.DeepEqual(o.DelChains, []string{EndpointChain(sp, sp.Endpoints[1])}) || len(o.AddElements) != 0 ||
			len(o.DelElements) != 1 || o.DelElements[0].Map != SetHairpin {
			t.Fatalf("ops %+v", o)
		}
	})
	t.Run("last endpoint gone swaps the element for a reject", func(t *testing.T) {
		o := Diff(oneF, noneF)
		if len(o.DelChains) != 2 || len(o.DelElements) != 2 || o.DelElements[1].Map != MapServiceIPs ||
			len(o.AddElements) != 1 || o.AddElements[0].Map != MapNoEndpoints {
			t.Fatalf("ops %+v", o)
		}
	})
	t.Run("deleted service removes all", func(t *testing.T) {
		o := Diff(two, nil)
		if len(o.DelChains) != 3 || len(o.DelElements) != 3 || len(o.AddChains)+len(o.AddElements) != 0 {
			t.Fatalf("ops %+v", o)
		}
	})
	t.Run("one endpoint of 1,000 removed drops its hairpin element only", func(t *testing.T) {
		big := manyEndpoints(1000)
		smaller := *big
		smaller.Endpoints = big.Endpoints[1:]
		o := Diff(Service(testCfg, big), Service(testCfg, &smaller))
		if len(o.AddElements) != 0 || len(o.DelElements) != 1 || o.DelElements[0].Map != SetHairpin ||
			!reflect.DeepEqual(o.DelElements[0].Key, HairpinKey(big.Endpoints[0], TCP)) {
			t.Fatalf("elements added %d, deleted %+v", len(o.AddElements), o.DelElements)
		}
	})
}
