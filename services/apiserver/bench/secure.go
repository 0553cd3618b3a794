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
)

func (m secMode) String() string {
	return [...]string{"security off", "TLS + client certificate + Node,RBAC", "TLS + client certificate + Node,RBAC + audit log"}[m]
}

// secRounds is how many rounds of slices each concurrency level of the
// security comparison is split into: short slices spread bursts of other
// work on the machine over the three sides.
const secRounds = 10

// targetSecureRatio: TLS and authorisation may cost at most 10% of creates/s.
const targetSecureRatio = 0.9

// benchUser is the non-admin user of the secure side: bound to edit in the
// benchmark's namespace, so every create is decided by RBAC.
const benchUser = "bench-user"

// configureSecurity sets cfg for the cluster's mode.
func (c *cluster) configureSecurity(cfg *app.Config) error {
	if c.mode == plain {
		cfg.Security.AuditLogPath = "none"
		return nil
	}
	dir, err := os.MkdirTemp("", "tugboat-bench-sec-")
	if err != nil {
		return err
	}
	c.secDir = dir
	cfg.Security.CertDir = filepath.Join(dir, "pki")
	cfg.Security.AuthorizationModes = []string{app.ModeNode, app.ModeRBAC}
	cfg.Security.AuditLogPath = "none"
	if c.mode == audited {
		cfg.Security.AuditLogPath = filepath.Join(dir, "audit.log")
	}
	return nil
}

// secureClient sets the admin's client config: plaintext, or TLS with a
// system:masters client certificate of the cluster's CA.
func (c *cluster) secureClient() error {
	if c.mode == plain {
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
	sides   [3]throughput // by secMode
	// cpu is the process's CPU time (user + system: the apiservers, their
	// etcds and the clients) during each mode's slices: CPU per create is
	// steadier than creates/s when other work shares the machine.
	cpu [3]time.Duration
}

// cpuPerCreate is the process's CPU time per create of mode m.
func (r securityResult) cpuPerCreate(m secMode) time.Duration {
	if r.sides[m].ops == 0 {
		return 0
	}
	return r.cpu[m] / time.Duration(r.sides[m].ops)
}

// cpuRatio is m's CPU per create over the plain side's.
func (r securityResult) cpuRatio(m secMode) float64 {
	if r.cpuPerCreate(plain) == 0 {
		return 0
	}
	return float64(r.cpuPerCreate(m)) / float64(r.cpuPerCreate(plain))
}

func (r securityResult) ratio(m secMode) float64 {
	if r.sides[plain].perSecond() == 0 {
		return 0
	}
	return r.sides[m].perSecond() / r.sides[plain].perSecond()
}

// creatorSide is one mode's apiserver, connection and pod creator.
type creatorSide struct {
	c       *cluster
	conn    *grpc.ClientConn
	creator *podCreator
}

// measureSecurity measures pod creates on three new apiservers, each on
// its own new embedded etcd (so that none starts with more history than
// the others): security off, TLS + Node,RBAC, and that with the audit log,
// alternating slices among the three.
func measureSecurity(ctx context.Context, o options, log io.Writer) (res []securityResult, err error) {
	fmt.Fprintln(log, "bench: starting three apiservers: security off, TLS + Node,RBAC, and with the audit log")
	sides := make([]creatorSide, 3)
	for _, m := range []secMode{plain, secured, audited} {
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
			order := []secMode{plain, secured, audited}
			if round%2 == 1 {
				order = []secMode{audited, secured, plain}
			}
			for _, m := range order {
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
	if m != plain {
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

// securityRows are the results table's rows of the secure apiservers.
func (r *results) securityRows() []row {
	var rows []row
	for _, s := range r.security {
		for _, m := range []secMode{secured, audited} {
			target, met := fmt.Sprintf("ratio >= %.1f", targetSecureRatio), yesNo(s.ratio(m) >= targetSecureRatio)
			if m == audited {
				target, met = "-", "-"
			}
			rows = append(rows, row{
				figure:    fmt.Sprintf("pod creates/s, %d clients, %s (gRPC)", s.clients, m),
				tugboat:   rate(s.sides[m]),
				baseline:  "security off " + rate(s.sides[plain]),
				vs:        fmt.Sprintf("%.2f of security off; CPU per create %s vs %s (%.2fx)", s.ratio(m), usStr(s.cpuPerCreate(m)), usStr(s.cpuPerCreate(plain)), s.cpuRatio(m)),
				reference: "-",
				target:    target,
				met:       met,
				values:    []float64{s.sides[m].perSecond(), s.sides[plain].perSecond(), ms(s.sides[m].lat.p50), ms(s.sides[m].lat.p99)},
			})
		}
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
	return fmt.Sprintf("- Security: the same pod creates on three more apiservers started for it, each on its own new embedded etcd: %s (plaintext, no authentication, AlwaysAllow, no audit log, as above); one with TLS from `--cert-dir` (ECDSA P-256), client-certificate authentication and `--authorization-mode=Node,RBAC`, the client a non-admin user bound to `edit` in the namespace by a RoleBinding (so RBAC decides every create); and the same with the audit log on. %s per side and concurrency level, in %d rounds of slices (off, secure, audited, then audited, secure, off), each side on its own new connection. Creates/s move with whatever else shares the machine, so the process's CPU time per create (user + system over each side's slices: the apiservers, their etcds and the clients, all in this process) is reported too.\n", plain, r.opts.duration, secRounds)
}

// securityTargets are the target lines of the security comparison.
func (r *results) securityTargets() string {
	var out string
	for _, s := range r.security {
		out += fmt.Sprintf("- With TLS and Node,RBAC, pod creates at %d clients reach %.2f of the same run's creates/s with security off (target at least %.1f, at most 10%% overhead): %s; the process spends %.2fx the CPU per create. With the audit log too: %.2f of the creates/s, %.2fx the CPU.\n",
			s.clients, s.ratio(secured), targetSecureRatio, metWord(s.ratio(secured) >= targetSecureRatio), s.cpuRatio(secured), s.ratio(audited), s.cpuRatio(audited))
	}
	return out
}
