package pods

import (
	"slices"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

func TestParseResolvConf(t *testing.T) {
	tests := []struct {
		name, in string
		want     HostDNS
	}{
		{"empty", "", HostDNS{}},
		{"debian", "# generated\nnameserver 10.255.255.53\n", HostDNS{Servers: []string{"10.255.255.53"}}},
		{"full", "domain corp\nsearch example.com. lab.example.com . ; comment\nnameserver 192.0.2.1\nnameserver 192.0.2.2 # second\noptions ndots:2 edns0\noptions rotate\n",
			HostDNS{Servers: []string{"192.0.2.1", "192.0.2.2"}, Searches: []string{"example.com", "lab.example.com"}, Options: []string{"ndots:2", "edns0", "rotate"}}},
		{"last search wins", "search a b\ndomain c\n", HostDNS{Searches: []string{"c"}}},
		{"bare keywords", "nameserver\nsearch\noptions\n", HostDNS{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseResolvConf(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Servers, tt.want.Servers) || !slices.Equal(got.Searches, tt.want.Searches) || !slices.Equal(got.Options, tt.want.Options) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadResolvConfMissingIsEmpty(t *testing.T) {
	for _, path := range []string{"", t.TempDir() + "/nope"} {
		h, err := ReadResolvConf(path)
		if err != nil || len(h.Servers)+len(h.Searches)+len(h.Options) != 0 {
			t.Errorf("ReadResolvConf(%q) = %+v, %v; want empty, nil", path, h, err)
		}
	}
	if _, err := ReadResolvConf(t.TempDir()); err == nil {
		t.Error("a directory read as a resolv.conf")
	}
}

func TestPodDNS(t *testing.T) {
	host := HostDNS{Servers: []string{"192.0.2.53"}, Searches: []string{"corp.example"}, Options: []string{"edns0", "ndots:1"}}
	cluster := DNSSettings{ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local", Host: host}
	clusterSearch := []string{"web.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"}
	type want struct{ servers, searches, options []string }
	tests := []struct {
		name     string
		policy   string
		hostNet  bool
		dnsCfg   *corev1.PodDNSConfig
		settings DNSSettings
		want     want
	}{
		{"default policy is ClusterFirst", "", false, nil, cluster,
			want{[]string{"10.96.0.10"}, clusterSearch, []string{"ndots:5"}}},
		{"ClusterFirst", "ClusterFirst", false, nil, cluster,
			want{[]string{"10.96.0.10"}, clusterSearch, []string{"ndots:5"}}},
		{"ClusterFirst on the host network gets the host's", "ClusterFirst", true, nil, cluster,
			want{host.Servers, host.Searches, host.Options}},
		{"ClusterFirstWithHostNet", "ClusterFirstWithHostNet", true, nil, cluster,
			want{[]string{"10.96.0.10"}, clusterSearch, []string{"ndots:5"}}},
		{"ClusterFirst without cluster DNS gets the host's", "ClusterFirst", false, nil, DNSSettings{ClusterDomain: "cluster.local", Host: host},
			want{host.Servers, host.Searches, host.Options}},
		{"several cluster DNS servers", "", false, nil, DNSSettings{ClusterDNS: []string{"10.96.0.10", "10.96.0.11"}, ClusterDomain: "k8s.test"},
			want{[]string{"10.96.0.10", "10.96.0.11"}, []string{"web.svc.k8s.test", "svc.k8s.test", "k8s.test"}, []string{"ndots:5"}}},
		{"Default", "Default", false, nil, cluster,
			want{host.Servers, host.Searches, host.Options}},
		{"None takes only dnsConfig", "None", false,
			&corev1.PodDNSConfig{Nameservers: []string{"192.0.2.9"}, Searches: []string{"a.example"}, Options: []*corev1.PodDNSConfigOption{{Name: "ndots", Value: proto.String("2")}}},
			cluster, want{[]string{"192.0.2.9"}, []string{"a.example"}, []string{"ndots:2"}}},
		{"None without dnsConfig is empty", "None", false, nil, cluster, want{}},
		{"dnsConfig merges into ClusterFirst", "ClusterFirst", false,
			&corev1.PodDNSConfig{
				Nameservers: []string{"10.96.0.10", "192.0.2.9"},
				Searches:    []string{"svc.cluster.local", "my.example"},
				Options:     []*corev1.PodDNSConfigOption{{Name: "ndots", Value: proto.String("2")}, {Name: "edns0"}, {Name: "timeout", Value: proto.String("")}},
			}, cluster,
			want{[]string{"10.96.0.10", "192.0.2.9"}, append(slices.Clone(clusterSearch), "my.example"), []string{"ndots:2", "edns0", "timeout"}}},
		{"at most three nameservers", "Default", false, &corev1.PodDNSConfig{Nameservers: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}}, cluster,
			want{[]string{"192.0.2.53", "192.0.2.1", "192.0.2.2"}, host.Searches, host.Options}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{
				Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "web"},
				Spec:     &corev1.PodSpec{DnsPolicy: tt.policy, HostNetwork: tt.hostNet, DnsConfig: tt.dnsCfg},
			}
			got := podDNS(pod, tt.settings)
			if !slices.Equal(got.GetServers(), tt.want.servers) || !slices.Equal(got.GetSearches(), tt.want.searches) || !slices.Equal(got.GetOptions(), tt.want.options) {
				t.Errorf("got servers %q searches %q options %q\nwant servers %q searches %q options %q",
					got.GetServers(), got.GetSearches(), got.GetOptions(), tt.want.servers, tt.want.searches, tt.want.options)
			}
		})
	}
}

func TestPodDNSSearchLimits(t *testing.T) {
	var many []string
	for i := range 40 {
		many = append(many, strings.Repeat("x", 60)+string(rune('a'+i%26))+".example")
	}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "ns"}, Spec: &corev1.PodSpec{DnsConfig: &corev1.PodDNSConfig{Searches: many}}}
	got := podDNS(pod, DNSSettings{ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local"}).GetSearches()
	if len(got) > maxDNSSearches || len(strings.Join(got, " ")) > maxDNSSearchLength {
		t.Errorf("%d searches of %d characters exceed the limits", len(got), len(strings.Join(got, " ")))
	}
	if len(got) < 3 || got[0] != "ns.svc.cluster.local" {
		t.Errorf("the cluster searches were cut: %q", got[:min(3, len(got))])
	}
}
