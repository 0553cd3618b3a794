package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/services/dns/answer"
	"github.com/tugboat-sh/tugboat/services/dns/forward"
	"github.com/tugboat-sh/tugboat/services/dns/internal/fixture"
	"github.com/tugboat-sh/tugboat/services/dns/server"
	"github.com/tugboat-sh/tugboat/services/dns/zone"
	"go.uber.org/zap"
)

// records returns n Service names and their ClusterIPs.
func records(n int) ([]string, map[string]string) {
	names := make([]string, 0, n)
	want := make(map[string]string, n)
	for i := range n {
		name := fmt.Sprintf("svc-%d.bench.svc.cluster.local.", i)
		names = append(names, name)
		want[name] = fmt.Sprintf("10.96.%d.%d", 1+i/250, 1+i%250)
	}
	return names, want
}

// serveEnv makes the test binary a tug-dns server instead of running
// tests (see TestMain): the benchmark runs tug-dns in a process of its
// own, as CoreDNS runs, rather than beside the load generator.
const serveEnv = "TUG_DNS_BENCH_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		if err := serve(); err != nil {
			fmt.Fprintln(os.Stderr, "tug-dns bench server:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// serve answers the records with tug-dns's server (metrics on) on
// 127.0.0.1 at a free port, prints the address, and serves until stdin
// closes.
func serve() error {
	_, want := records(1000)
	x := zone.NewIndex("cluster.local")
	for name, ip := range want {
		svc := strings.Split(name, ".")[0]
		x.SetService(fixture.Service("bench", svc, ip, fixture.Port("http", "TCP", 80)))
	}
	m, err := server.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		return err
	}
	fwd, _ := forward.New(nil, time.Second)
	h := &server.Handler{Zone: x, Forward: fwd, Metrics: m, Log: zap.NewNop(), Config: answer.Config{
		Domain: "cluster.local.", TTL: 5, Reverse: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}, Serial: 1}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := server.Listen(ctx, []string{"127.0.0.1:0"}, h)
	if err != nil {
		return err
	}
	fmt.Println(s.Addrs()[0])
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()
	return s.Serve(ctx)
}

// startTugDNS runs serve in a child process and returns its address.
func startTugDNS(tb testing.TB) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill() // by its PID
		_ = cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("tug-dns bench server did not start: %v", err)
	}
	return strings.TrimSpace(addr)
}

// startCoreDNS runs the coredns binary (COREDNS, else coredns on PATH)
// serving the same records from a zone file with the file plugin only
// (no cache), on 127.0.0.1 at a free port.
func startCoreDNS(tb testing.TB, names []string, want map[string]string) (string, string) {
	tb.Helper()
	bin := os.Getenv("COREDNS")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("coredns"); err != nil {
			tb.Fatalf("coredns not found (set COREDNS or run make bench-dns, which installs it): %v", err)
		}
	}
	dir := tb.TempDir()
	var zf strings.Builder
	zf.WriteString("$ORIGIN cluster.local.\n$TTL 5\n")
	zf.WriteString("@ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5\n@ IN NS ns.dns.cluster.local.\nns.dns IN A 10.96.0.10\n")
	for _, n := range names {
		fmt.Fprintf(&zf, "%s IN A %s\n", n, want[n])
	}
	zonePath := filepath.Join(dir, "db.cluster.local")
	if err := os.WriteFile(zonePath, []byte(zf.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	port := freePort(tb)
	corefile := fmt.Sprintf("cluster.local:%d {\n\tbind 127.0.0.1\n\tfile %s\n}\n", port, zonePath)
	cfPath := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(cfPath, []byte(corefile), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-conf", cfPath, "-quiet")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start coredns: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill() // by its PID
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	deadline := time.Now().Add(30 * time.Second)
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	for {
		if resp, _, err := c.Exchange(new(dns.Msg).SetQuestion(names[0], dns.TypeA), addr); err == nil && len(resp.Answer) == 1 {
			break
		}
		select {
		case err := <-exited:
			tb.Fatalf("coredns exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("coredns did not answer within 30s\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}
	version, _ := exec.Command(bin, "-version").Output()
	return addr, strings.Fields(string(version) + " ?")[0]
}

// freePort returns a port free on 127.0.0.1 for both UDP and TCP.
func freePort(tb testing.TB) int {
	tb.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		_ = pc.Close()
		if err == nil {
			_ = l.Close()
			return port
		}
	}
	tb.Fatal("no free port")
	return 0
}
