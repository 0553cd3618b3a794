package fakeruntime

import (
	"io"
	"net/netip"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestVersionStatusConfig(t *testing.T) {
	e := start(t, Config{CgroupDriver: runtimeapi.CgroupDriver_CGROUPFS})
	v, err := e.rs.Version(e.ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if v.RuntimeName != DefaultRuntimeName || v.RuntimeVersion != DefaultRuntimeVersion || v.RuntimeApiVersion != "v1" {
		t.Errorf("Version = %v", v)
	}
	ready := func() map[string]bool {
		st, err := e.rs.Status(e.ctx, &runtimeapi.StatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, c := range st.Status.Conditions {
			m[c.Type] = c.Status
		}
		return m
	}
	if got := ready(); !got[runtimeapi.RuntimeReady] || !got[runtimeapi.NetworkReady] {
		t.Errorf("conditions = %v, want both ready", got)
	}
	e.rt.SetCondition(runtimeapi.NetworkReady, false, "NetworkPluginNotReady", "cni config uninitialized")
	if got := ready(); !got[runtimeapi.RuntimeReady] || got[runtimeapi.NetworkReady] {
		t.Errorf("conditions = %v, want network not ready", got)
	}
	rc, err := e.rs.RuntimeConfig(e.ctx, &runtimeapi.RuntimeConfigRequest{})
	if err != nil || rc.Linux.CgroupDriver != runtimeapi.CgroupDriver_CGROUPFS {
		t.Errorf("RuntimeConfig = %v, %v", rc, err)
	}
}

func TestSandboxLifecycle(t *testing.T) {
	e := start(t, Config{PodCIDR: "10.244.7.0/24"})
	cidr := netip.MustParsePrefix("10.244.7.0/24")
	cfg := sandboxConfig("web", "default", map[string]string{"app": "web"})
	cfg.Annotations = map[string]string{"note": "x"}
	cfg.LogDirectory = "/var/log/pods/default_web_uid"
	id := e.runPod(t, cfg)

	st := e.sandboxStatus(t, id)
	if st.State != runtimeapi.PodSandboxState_SANDBOX_READY || st.Metadata.Name != "web" || st.CreatedAt == 0 ||
		st.Labels["app"] != "web" || st.Annotations["note"] != "x" {
		t.Fatalf("status = %v", st)
	}
	ip, err := netip.ParseAddr(st.Network.Ip)
	if err != nil || !cidr.Contains(ip) || ip == netip.MustParseAddr("10.244.7.1") {
		t.Fatalf("IP %q not an assignable address of %s", st.Network.Ip, cidr)
	}
	other := e.runPod(t, sandboxConfig("db", "default", nil))
	if got := e.sandboxStatus(t, other).Network.Ip; got == st.Network.Ip {
		t.Fatalf("two sandboxes share IP %s", got)
	}

	for range 2 { // stopping twice is fine
		if _, err := e.rs.StopPodSandbox(e.ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
			t.Fatalf("StopPodSandbox: %v", err)
		}
	}
	st = e.sandboxStatus(t, id)
	if st.State != runtimeapi.PodSandboxState_SANDBOX_NOTREADY || st.Network.Ip != "" {
		t.Fatalf("after stop: state %v IP %q", st.State, st.Network.Ip)
	}
	for range 2 { // removing twice is fine
		if _, err := e.rs.RemovePodSandbox(e.ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
			t.Fatalf("RemovePodSandbox: %v", err)
		}
	}
	_, err = e.rs.PodSandboxStatus(e.ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
	wantCode(t, err, codes.NotFound, `pod sandbox "`+id+`" not found`)
	if _, err := e.rs.StopPodSandbox(e.ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: "nope"}); err != nil {
		t.Fatalf("StopPodSandbox(unknown) = %v, want nil", err)
	}
	c := e.rt.Counters()
	if c.SandboxesRun != 2 || c.SandboxesStopped != 1 || c.SandboxesRemoved != 1 || c.Sandboxes != 1 || c.ReadySandboxes != 1 {
		t.Fatalf("counters = %+v", c)
	}
}

func TestSandboxErrors(t *testing.T) {
	e := start(t, Config{})
	cfg := sandboxConfig("web", "default", nil)
	e.runPod(t, cfg)
	_, err := e.rs.RunPodSandbox(e.ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	wantCode(t, err, codes.AlreadyExists, "web_default_")
	_, err = e.rs.RunPodSandbox(e.ctx, &runtimeapi.RunPodSandboxRequest{Config: &runtimeapi.PodSandboxConfig{}})
	wantCode(t, err, codes.InvalidArgument, "metadata")
	cfg.Metadata.Attempt = 1
	e.runPod(t, cfg) // a new attempt is a new name
}

func TestSandboxHostNetwork(t *testing.T) {
	e := start(t, Config{})
	cfg := sandboxConfig("node-agent", "kube-system", nil)
	cfg.Linux = &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
		NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE},
	}}
	st := e.sandboxStatus(t, e.runPod(t, cfg))
	if st.Network.Ip != "" || st.Linux.GetNamespaces().GetOptions().GetNetwork() != runtimeapi.NamespaceMode_NODE {
		t.Fatalf("host network sandbox: IP %q, namespaces %v", st.Network.Ip, st.Linux)
	}
}

func TestIPExhaustionAndReuse(t *testing.T) {
	e := start(t, Config{PodCIDR: "10.244.9.0/29"}) // .2 to .6 are assignable
	var ids []string
	seen := map[string]bool{}
	for i := range 5 {
		id := e.runPod(t, sandboxConfig("p"+string(rune('a'+i)), "default", nil))
		ids = append(ids, id)
		seen[e.sandboxStatus(t, id).Network.Ip] = true
	}
	for _, want := range []string{"10.244.9.2", "10.244.9.3", "10.244.9.4", "10.244.9.5", "10.244.9.6"} {
		if !seen[want] {
			t.Fatalf("assigned %v, missing %s", seen, want)
		}
	}
	_, err := e.rs.RunPodSandbox(e.ctx, &runtimeapi.RunPodSandboxRequest{Config: sandboxConfig("full", "default", nil)})
	wantCode(t, err, codes.ResourceExhausted, "10.244.9.0/29")
	if _, err := e.rs.StopPodSandbox(e.ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: ids[2]}); err != nil {
		t.Fatal(err)
	}
	id := e.runPod(t, sandboxConfig("full", "default", nil))
	if got := e.sandboxStatus(t, id).Network.Ip; got != "10.244.9.4" {
		t.Fatalf("reused IP = %s, want the released 10.244.9.4", got)
	}
}

func TestNewIPAM(t *testing.T) {
	tests := []struct {
		cidr, first string
		wantErr     bool
	}{
		{cidr: "10.244.0.0/16", first: "10.244.0.2"},
		{cidr: "10.244.3.7/24", first: "10.244.3.2"},
		{cidr: "10.0.0.0/30", first: "10.0.0.2"},
		{cidr: "fd00:10:244::/64", first: "fd00:10:244::2"},
		{cidr: "10.0.0.0/31", wantErr: true},
		{cidr: "10.0.0.0/32", wantErr: true},
		{cidr: "not-a-cidr", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			m, err := newIPAM(tt.cidr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("newIPAM(%q) error = %v, wantErr %v", tt.cidr, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			a, err := m.allocate()
			if err != nil || a.String() != tt.first {
				t.Fatalf("first allocation = %v, %v; want %s", a, err, tt.first)
			}
		})
	}
}

func TestListPodSandboxFilters(t *testing.T) {
	e := start(t, Config{})
	web := e.runPod(t, sandboxConfig("web", "default", map[string]string{"app": "web", "tier": "front"}))
	api := e.runPod(t, sandboxConfig("api", "default", map[string]string{"app": "api", "tier": "front"}))
	db := e.runPod(t, sandboxConfig("db", "default", map[string]string{"app": "db"}))
	if _, err := e.rs.StopPodSandbox(e.ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: db}); err != nil {
		t.Fatal(err)
	}
	ready := &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}
	tests := []struct {
		name   string
		filter *runtimeapi.PodSandboxFilter
		want   []string
	}{
		{"all", nil, []string{web, api, db}},
		{"by id", &runtimeapi.PodSandboxFilter{Id: api}, []string{api}},
		{"unknown id", &runtimeapi.PodSandboxFilter{Id: "nope"}, nil},
		{"ready", &runtimeapi.PodSandboxFilter{State: ready}, []string{web, api}},
		{"not ready", &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_NOTREADY}}, []string{db}},
		{"label", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"tier": "front"}}, []string{web, api}},
		{"two labels", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"tier": "front", "app": "api"}}, []string{api}},
		{"id and wrong state", &runtimeapi.PodSandboxFilter{Id: db, State: ready}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.rs.ListPodSandbox(e.ctx, &runtimeapi.ListPodSandboxRequest{Filter: tt.filter})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, sb := range resp.Items {
				got = append(got, sb.Id)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("ids = %v, want %v", got, tt.want)
			}
		})
	}
	stream, err := e.rs.StreamPodSandboxes(e.ctx, &runtimeapi.StreamPodSandboxesRequest{Filter: &runtimeapi.PodSandboxFilter{State: ready}})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("StreamPodSandboxes: %v", err)
		}
		n += len(resp.PodSandboxes)
	}
	if n != 2 {
		t.Fatalf("StreamPodSandboxes gave %d ready sandboxes, want 2", n)
	}
}

func TestUpdateRuntimeConfigPodCIDR(t *testing.T) {
	e := start(t, Config{PodCIDR: "10.244.0.0/24"})
	old := e.runPod(t, sandboxConfig("before", "default", nil))
	update := func(cidr string) error {
		_, err := e.rs.UpdateRuntimeConfig(e.ctx, &runtimeapi.UpdateRuntimeConfigRequest{RuntimeConfig: &runtimeapi.RuntimeConfig{
			NetworkConfig: &runtimeapi.NetworkConfig{PodCidr: cidr}}})
		return err
	}
	if err := update("10.244.5.0/24,fd00:10:244:5::/64"); err != nil {
		t.Fatal(err)
	}
	if got := e.rt.PodCIDR(); got != "10.244.5.0/24" {
		t.Fatalf("PodCIDR = %s", got)
	}
	if ip := e.sandboxStatus(t, e.runPod(t, sandboxConfig("after", "default", nil))).Network.Ip; ip != "10.244.5.2" {
		t.Fatalf("new sandbox IP = %s, want 10.244.5.2", ip)
	}
	if ip := e.sandboxStatus(t, old).Network.Ip; ip != "10.244.0.2" {
		t.Fatalf("old sandbox IP = %s, want it kept", ip)
	}
	wantCode(t, update("bogus"), codes.InvalidArgument, "bogus")
	if err := update(""); err != nil {
		t.Fatal(err)
	}
}
