// Package command is tug's command tree (cobra): the kubectl-style verbs
// over gRPC (get, describe, apply, create, run, delete, logs, exec, label,
// version, cluster-info, completion) and the local cluster's up and down.
package command

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/client/config"
	"google.golang.org/grpc"
)

// Version is tug's own version.
const Version = "v0.4.0"

// maxMessageBytes bounds a reply (a page of a large list).
const maxMessageBytes = 64 << 20

// Env is what every command shares: the streams, the global flags and,
// once a command asks for it, the connection to the apiserver.
type Env struct {
	In       io.Reader
	Out, Err io.Writer

	Kubeconfig, Context, Namespace string

	cfg  *config.Config
	conn *grpc.ClientConn
}

// New returns the root command over the given streams.
func New(in io.Reader, out, errOut io.Writer) (*cobra.Command, *Env) {
	env := &Env{In: in, Out: out, Err: errOut}
	root := &cobra.Command{
		Use:   "tug",
		Short: "tug controls a Tugboat cluster, as kubectl controls Kubernetes, and brings a local one up",
		Long: `tug controls a Tugboat cluster: the kubectl verbs (get, describe, apply,
delete, logs, exec, label, ...) over gRPC, configured by a kubeconfig
($KUBECONFIG, else ~/.kube/config). "tug up" starts a one-node cluster on
this machine and writes that kubeconfig; "tug down" removes it.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	pf := root.PersistentFlags()
	pf.StringVar(&env.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default $KUBECONFIG, then ~/.kube/config)")
	pf.StringVar(&env.Context, "context", "", "the kubeconfig context to use (default: its current-context)")
	pf.StringVarP(&env.Namespace, "namespace", "n", "", "the namespace of the request (default: the context's, else default)")
	root.AddCommand(
		newGet(env), newDescribe(env), newApply(env), newCreate(env), newRun(env), newExpose(env), newDelete(env),
		newLogs(env), newExec(env), newLabel(env), newVersion(env), newClusterInfo(env), newAPIResources(env), newScale(env), newRollout(env),
		newToken(env), newCertificate(env), newKubeconfig(env), newInit(env), newUp(env), newDown(env),
	)
	root.AddCommand(newJoin(env))
	return root, env
}

// Main runs tug with args until it is done or ctx ends, and returns the
// process's exit code.
func Main(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	root, env := New(in, out, errOut)
	defer env.Close()
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			return ex.code
		}
		fmt.Fprintln(errOut, Message(err, env.server()))
		return 1
	}
	return 0
}

// Config loads the kubeconfig (once).
func (e *Env) Config() (*config.Config, error) {
	if e.cfg != nil {
		return e.cfg, nil
	}
	cfg, err := config.Load(e.Kubeconfig, e.Context)
	if err != nil {
		return nil, kubeconfigError{err}
	}
	e.cfg = cfg
	return cfg, nil
}

// Conn dials the apiserver (once); the connection is made by the first call.
func (e *Env) Conn(ctx context.Context) (*grpc.ClientConn, error) {
	if e.conn != nil {
		return e.conn, nil
	}
	cfg, err := e.Config()
	if err != nil {
		return nil, err
	}
	conn, err := config.Dial(ctx, cfg, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes)))
	if err != nil {
		return nil, err
	}
	e.conn = conn
	return conn, nil
}

// NS is the namespace of a request: -n, else the context's.
func (e *Env) NS() (string, bool, error) {
	if e.Namespace != "" {
		return e.Namespace, true, nil
	}
	cfg, err := e.Config()
	if err != nil {
		return "", false, err
	}
	return cfg.Namespace, false, nil
}

// Close closes the connection.
func (e *Env) Close() {
	if e.conn != nil {
		_ = e.conn.Close()
	}
}

func (e *Env) server() string {
	if e.cfg == nil {
		return ""
	}
	return e.cfg.Server
}

// exitError ends tug with a code and nothing more to print (exec passes
// its command's exit code on).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
