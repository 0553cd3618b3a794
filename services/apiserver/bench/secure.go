package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/app"
	"google.golang.org/grpc"
)

// secMode is how secure a benchmarked apiserver is.
type secMode int

const (
	// plain is the foundation's apiserver: plaintext, no authentication,
	// AlwaysAllow, no audit log.
	plain secMode = iota
	// secured serves TLS (--cert-dir), authenticates client certificates
	// and authorises with Node,RBAC; no audit log.
	secured
	// audited is secured with the audit log on.
	audited
	// control is plain again, on its own apiserver: how far two identical
	// apiservers differ in one run is the comparison's noise floor.
	control
	// modes is how many there are.
	modes = 4
)

// secure reports whether the mode serves TLS and authorises.
func (m secMode) secure() bool { return m == secured || m == audited }

func (m secMode) String() string {
	return [...]string{"security off", "TLS + client certificate + Node,RBAC", "TLS + client certificate + Node,RBAC + audit log", "security off again (control)"}[m]
}

// secRounds is how many rounds of slices each concurrency level of the
// security comparison is split into (a multiple of modes: each round starts
// with the next mode): short slices spread bursts of other work on the
// machine over the three sides.
const secRounds = 8

// settle is the pause before each slice (at most the slice's length).
const settle = 100 * time.Millisecond

// targetSecureRatio: TLS and authorisation may cost at most 10% of creates/s.
const targetSecureRatio = 0.9

// benchUser is the non-admin user of the secure side: bound to edit in the
// benchmark's namespace, so every create is decided by RBAC.
const benchUser = "bench-user"

// configureSecurity sets cfg for the cluster's mode.
func (c *cluster) configureSecurity(cfg *app.Config) error {
	if !c.mode.secure() {
		cfg.Security.Insecure = true
		cfg.Security.AuditLogPath = "none"
		return nil
	}
	dir, err := os.MkdirTemp("", "tugboat-bench-sec-")
	if err != nil {
		return err
	}
	c.secDir = dir
	// The defaults are secure (Node,RBAC, bootstrap tokens); only the
	// cert dir moves out of the data dir, which external etcd lacks.
	cfg.Security.CertDir = filepath.Join(dir, "pki")
	cfg.Security.AuditLogPath = "none"
	if c.mode == audited {
		cfg.Security.AuditLogPath = filepath.Join(dir, "audit.log")
	}
	return nil
}

// secureClient sets the admin's client config: plaintext, or TLS with a
// system:masters client certificate of the cluster's CA.
func (c *cluster) secureClient() error {
	if !c.mode.secure() {
		c.client = &config.Config{Server: c.addr}
		return nil
	}
	ca, err := pki.Dir(filepath.Join(c.secDir, "pki")).LoadOrCreateCA()
	if err != nil {
		return err
	}
	c.ca = ca
	c.client, err = c.userConfig("kubernetes-admin", pki.GroupMasters)
	return err
}

// userConfig is a TLS client config of a new client certificate for user.
func (c *cluster) userConfig(user string, groups ...string) (*config.Config, error) {
	kp, err := c.ca.IssueClient(user, groups, time.Hour)
	if err != nil {
		return nil, err
	}
	key, err := kp.KeyPEM()
	if err != nil {
		return nil, err
	}
	return &config.Config{Server: "https://" + c.addr, CAData: c.ca.CertPEM(), CertData: kp.CertPEM(), KeyData: key}, nil
}

// securityResult is one concurrency level of the three modes' creates.
type securityResult struct {
	clients int
	sides   [modes]throughput // by secMode
	// cpu is the process's CPU time (user + system: the apiservers, their
	// etcds and the clients) during each mode's slices: CPU per create is
	// steadier than creates/s when other work shares the machine.
	cpu [modes]time.Duration
}

// off is security off: both plain apiservers' creates and CPU together.
func (r securityResult) off() (throughput, time.Duration) {
	return throughput{ops: r.sides[plain].ops + r.sides[control].ops, elapsed: r.sides[plain].elapsed + r.sides[control].elapsed},
		r.cpu[plain] + r.cpu[control]
}

// cpuPerCreate is the process's CPU time per create of mode m.
func (r securityResult) cpuPerCreate(m secMode) time.Duration {
	return perCreate(r.cpu[m], r.sides[m].ops)
}

func perCreate(cpu time.Duration, ops int) time.Duration {
	if ops == 0 {
		return 0
	}
	return cpu / time.Duration(ops)
}

// ratio is m's creates/s over security off's (both plain apiservers).
func (r securityResult) ratio(m secMode) float64 {
	off, _ := r.off()
	if off.perSecond() == 0 {
		return 0
	}
	return r.sides[m].perSecond() / off.perSecond()
}

// cpuRatio is m's CPU per create over security off's.
func (r securityResult) cpuRatio(m secMode) float64 {
	off, cpu := r.off()
	if perCreate(cpu, off.ops) == 0 {
		return 0
	}
	return float64(r.cpuPerCreate(m)) / float64(perCreate(cpu, off.ops))
}

// spread compares the two plain apiservers: creates/s and CPU per create
// of the second over the first, the comparison's noise.
func (r securityResult) spread() (float64, float64) {
	if r.sides[plain].perSecond() == 0 || r.cpuPerCreate(plain) == 0 {
		return 0, 0
	}
	return r.sides[control].perSecond() / r.sides[plain].perSecond(), float64(r.cpuPerCreate(control)) / float64(r.cpuPerCreate(plain))
}

// creatorSide is one mode's apiserver, connection and pod creator.
type creatorSide struct {
	c       *cluster
	conn    *grpc.ClientConn
	creator *podCreator
}

// measureSecurity measures pod creates on four new apiservers, each on
// its own new embedded etcd (so that none starts with more history than
// the others): security off, TLS + Node,RBAC, that with the audit log, and
// security off again as a control, alternating slices among the four.
func measureSecurity(ctx context.Context, o options, log io.Writer) (res []securityResult, err error) {
	fmt.Fprintln(log, "bench: starting four apiservers: security off, TLS + Node,RBAC, that with the audit log, and security off again")
	sides := make([]creatorSide, modes)
	for _, m := range []secMode{plain, secured, audited, control} {
		c, err := startCluster(ctx, o, m, log)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m, err)
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = errors.Join(err, c.cleanup(cctx, len(o.etcdServers) > 0), c.stop())
		}()
		sides[m].c = c
	}
	for m := range sides {
		s := &sides[m]
		if err := s.prepare(ctx, secMode(m)); err != nil {
			return nil, fmt.Errorf("%s: %w", secMode(m), err)
		}
		defer s.conn.Close()
	}
	op := func(s *creatorSide, tag string) func(ctx context.Context, w, seq int) error {
		return func(ctx context.Context, w, seq int) error {
			return s.creator.create(ctx, fmt.Sprintf("%s-%d-%d", tag, w, seq))
		}
	}
	for m := range sides {
		if _, err := closedLoop(ctx, o.clients[0], min(time.Second, o.duration)/2, op(&sides[m], "warm")); err != nil {
			return nil, fmt.Errorf("%s: warm-up creates: %w", secMode(m), err)
		}
	}
	slice := o.duration / secRounds
	for _, n := range o.clients {
		r := securityResult{clients: n}
		fmt.Fprintf(log, "bench: pod creates with security off and on, %d clients, %s each\n", n, o.duration)
		for round := range secRounds {
			// Each round starts with the next mode, so every mode follows
			// each other mode alike, and a pause lets the previous slice's
			// work (etcd commits, garbage collection) end before the next.
			for i := range modes {
				m := secMode((round + i) % modes)
				time.Sleep(min(settle, slice))
				before := processCPU()
				t, err := closedLoop(ctx, n, slice, op(&sides[m], fmt.Sprintf("c%d-r%d", n, round)))
				if err != nil {
					return nil, fmt.Errorf("%s: pod creates at %d clients: %w", m, n, err)
				}
				r.cpu[m] += processCPU() - before
				r.sides[m].add(t)
			}
		}
		for m := range r.sides {
			r.sides[m].done()
		}
		res = append(res, r)
	}
	if o.cpuProfile != "" && o.securityOnly {
		// One profile per side at the highest concurrency, each alone:
		// <path>.insecure and <path>.secure, to compare with pprof.
		n := o.clients[len(o.clients)-1]
		for _, m := range []secMode{plain, secured} {
			path := o.cpuProfile + map[secMode]string{plain: ".insecure", secured: ".secure"}[m]
			fmt.Fprintf(log, "bench: profiling pod creates, %s, %d clients, %s, into %s\n", m, n, o.duration, path)
			if err := profile(path, func() error {
				_, err := closedLoop(ctx, n, o.duration, op(&sides[m], fmt.Sprintf("prof%d", m)))
				return err
			}); err != nil {
				return nil, fmt.Errorf("%s: profiled creates: %w", m, err)
			}
		}
	}
	return res, nil
}

// prepare makes the side's namespace and its creating connection: on a
// secure apiserver, bench-user bound to edit there (polled until the
// binding reaches the authoriser); on the plain one, a fresh connection.
func (s *creatorSide) prepare(ctx context.Context, m secMode) error {
	ns, err := s.c.namespace(ctx, "sec")
	if err != nil {
		return err
	}
	cfg := s.c.client
	if m.secure() {
		rb := rbacv1.NewRoleBindingServiceClient(s.c.conn)
		if _, err := rb.Create(ctx, &rbacv1.RoleBinding{
			Metadata: &metav1.ObjectMeta{Name: "bench-edit", Namespace: ns},
			RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edit"},
			Subjects: []*rbacv1.Subject{{Kind: "User", ApiGroup: "rbac.authorization.k8s.io", Name: benchUser}},
		}); err != nil {
			return fmt.Errorf("bind %s to edit: %w", benchUser, err)
		}
		if cfg, err = s.c.userConfig(benchUser); err != nil {
			return err
		}
	}
	if s.conn, err = s.c.dialAs(ctx, cfg); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := clientset.New(s.conn).Pods().Create(ctx, newPod(ns, "first"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("first create as %s: %w", benchUser, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.creator, err = newPodCreator(s.conn, newPod(ns, "template"))
	return err
}

// securityRows are the results table's rows of the security comparison.
func (r *results) securityRows() []row {
	var rows []row
	for _, s := range r.security {
		off, offCPU := s.off()
		for _, m := range []secMode{secured, audited} {
			target, met := fmt.Sprintf("ratio >= %.1f", targetSecureRatio), yesNo(s.ratio(m) >= targetSecureRatio)
			if m != secured {
				target, met = "-", "-"
			}
			rows = append(rows, row{
				figure:    fmt.Sprintf("pod creates/s, %d clients, %s (gRPC)", s.clients, m),
				tugboat:   rate(s.sides[m]),
				baseline:  fmt.Sprintf("security off (two apiservers) %s/s", count(int(off.perSecond()+0.5))),
				vs:        fmt.Sprintf("%.2f of security off; CPU per create %s vs %s (%.2fx)", s.ratio(m), usStr(s.cpuPerCreate(m)), usStr(perCreate(offCPU, off.ops)), s.cpuRatio(m)),
				reference: "-",
				target:    target,
				met:       met,
				values:    []float64{s.sides[m].perSecond(), off.perSecond(), ms(s.sides[m].lat.p50), ms(s.sides[m].lat.p99)},
			})
		}
		tput, cpu := s.spread()
		rows = append(rows, row{
			figure:    fmt.Sprintf("pod creates/s, %d clients, security off, second apiserver vs first (noise)", s.clients),
			tugboat:   rate(s.sides[control]),
			baseline:  "first " + rate(s.sides[plain]),
			vs:        fmt.Sprintf("%.2f; CPU per create %.2fx", tput, cpu),
			reference: "-",
			target:    "-",
			met:       "-",
			values:    []float64{s.sides[control].perSecond(), s.sides[plain].perSecond(), tput, cpu},
		})
	}
	return rows
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// usStr prints a duration in microseconds.
func usStr(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// securitySetup is the set-up line of the security comparison.
func (r *results) securitySetup() string {
	return fmt.Sprintf("- Security: the same pod creates on four more apiservers started for it, each on its own new embedded etcd: %s (`--insecure`: plaintext, no authentication, AlwaysAllow; no audit log, as above); one on the apiserver's secure defaults (TLS from a cert dir, ECDSA P-256; client-certificate and bootstrap-token authentication; `Node,RBAC`), the client a non-admin user bound to `edit` in the namespace by a RoleBinding (so RBAC decides every create); the same with the audit log on; and a second apiserver with security off: the secure sides are compared with both plain ones together, and the two plain ones with each other, which shows how far two identical apiservers differ in one run. %s per side and concurrency level, in %d rounds of slices, each round starting with the next side (off, secure, audited, control; secure, audited, control, off; ...) and each slice after a 100 ms pause, each side on its own new connection. Creates/s move with whatever else shares the machine, so the process's CPU time per create (user + system over each side's slices: the apiservers, their etcds and the clients, all in this process) is reported too.\n", plain, r.opts.duration, secRounds)
}

// securityTargets are the target lines of the security comparison.
func (r *results) securityTargets() string {
	var out string
	for _, s := range r.security {
		tput, cpu := s.spread()
		out += fmt.Sprintf("- With TLS and Node,RBAC, pod creates at %d clients reach %.2f of the same run's creates/s with security off (both plain apiservers) (target at least %.1f, at most 10%% overhead): %s; the process spends %.2fx the CPU per create. With the audit log too: %.2f of the creates/s, %.2fx the CPU. The two apiservers with security off differed by %.2f in creates/s and %.2fx in CPU per create: differences of that size are noise.\n",
			s.clients, s.ratio(secured), targetSecureRatio, metWord(s.ratio(secured) >= targetSecureRatio), s.cpuRatio(secured), s.ratio(audited), s.cpuRatio(audited), tput, cpu)
	}
	return out
}
