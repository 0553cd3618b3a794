package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
)

type logsOptions struct {
	container        string
	follow, previous bool
	timestamps       bool
	tail             int64
	since            time.Duration
}

func newLogs(env *Env) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs POD [-c CONTAINER]",
		Short: "Print the logs of a container in a pod",
		Example: `  tug logs second-pod -c sise
  tug logs --tail=5 pod-logme -c gen
  tug logs -f --since=10s pod-logme -c gen
  tug logs -p crashing-pod`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				if o.container != "" {
					return fmt.Errorf("only one of -c or a second argument names the container")
				}
				o.container = args[1]
			}
			return runLogs(cmd.Context(), env, o, strings.TrimPrefix(strings.TrimPrefix(args[0], "pods/"), "pod/"))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.container, "container", "c", "", "the container (default: the pod's only, else its first)")
	f.BoolVarP(&o.follow, "follow", "f", false, "keep streaming new lines")
	f.BoolVarP(&o.previous, "previous", "p", false, "the log of the container's previous, terminated instance")
	f.BoolVar(&o.timestamps, "timestamps", false, "prefix each line with its time")
	f.Int64Var(&o.tail, "tail", -1, "only the last N lines (-1: all)")
	f.DurationVar(&o.since, "since", 0, "only lines newer than this, e.g. 10s, 5m")
	return cmd
}

func runLogs(ctx context.Context, env *Env, o *logsOptions, pod string) error {
	ns, _, err := env.NS()
	if err != nil {
		return err
	}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	pods := corev1.NewPodServiceClient(conn)
	container, err := defaultContainer(ctx, env, pods, ns, pod, o.container)
	if err != nil {
		return err
	}
	req := &corev1.PodLogOptions{Namespace: ns, Name: pod, Container: container, Follow: o.follow, Previous: o.previous, Timestamps: o.timestamps}
	if o.tail >= 0 {
		req.TailLines = &o.tail
	}
	if o.since > 0 {
		s := int64((o.since + time.Second - 1) / time.Second)
		req.SinceSeconds = &s
	}
	st, err := pods.Log(ctx, req)
	if err != nil {
		return err
	}
	for {
		chunk, err := st.Recv()
		if errors.Is(err, io.EOF) || (err != nil && ctx.Err() != nil) {
			return nil // the end of the log, or Ctrl-C on a followed one
		}
		if err != nil {
			return err
		}
		if _, err := env.Out.Write(chunk.GetData()); err != nil {
			return err
		}
	}
}

// defaultContainer returns the container asked for, or the pod's first
// (saying so on stderr when it has several, as kubectl does).
func defaultContainer(ctx context.Context, env *Env, pods corev1.PodServiceClient, ns, pod, container string) (string, error) {
	if container != "" {
		return container, nil
	}
	p, err := pods.Get(ctx, &metav1.GetOptions{Namespace: ns, Name: pod}, grpc.WaitForReady(false))
	if err != nil {
		return "", err
	}
	cs := p.GetSpec().GetContainers()
	if len(cs) == 0 {
		return "", fmt.Errorf("pod %s has no containers", pod)
	}
	if len(cs) > 1 {
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = c.GetName()
		}
		fmt.Fprintf(env.Err, "Defaulted container %q out of: %s\n", cs[0].GetName(), strings.Join(names, ", "))
	}
	return cs[0].GetName(), nil
}
