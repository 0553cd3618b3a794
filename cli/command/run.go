package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/resource"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
)

type runOptions struct {
	image, labels, restart string
	port                   int32
	env                    []string
	command                bool
}

func newRun(env *Env) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run NAME --image=IMAGE [--port=PORT] [--env=K=V] [--labels=K=V,...] [-- ARG...]",
		Short: "Run an image in a new pod",
		Example: `  tug run first-pod --image=tugboat.local/sise:0.5.0 --port=9876
  tug run shell --image=tugboat.local/shell:latest --command -- sleep 3600`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), env, o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.image, "image", "", "the container image (required)")
	f.Int32Var(&o.port, "port", 0, "the port the container exposes")
	f.StringArrayVar(&o.env, "env", nil, "environment variable K=V (repeatable)")
	f.StringVarP(&o.labels, "labels", "l", "", "labels K=V,K=V (default run=NAME)")
	f.StringVar(&o.restart, "restart", "Always", "restart policy: Always, OnFailure or Never")
	f.BoolVar(&o.command, "command", false, "the arguments after -- are the command, not the image's arguments")
	return cmd
}

func runRun(ctx context.Context, env *Env, o *runOptions, name string, args []string) error {
	if o.image == "" {
		return fmt.Errorf("--image is required")
	}
	labels := map[string]string{"run": name}
	if o.labels != "" {
		labels = map[string]string{}
		for kv := range strings.SplitSeq(o.labels, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Errorf("--labels: %q is not K=V", kv)
			}
			labels[k] = v
		}
	}
	c := &corev1.Container{Name: name, Image: o.image}
	if o.port != 0 {
		c.Ports = []*corev1.ContainerPort{{ContainerPort: o.port}}
	}
	for _, kv := range o.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--env: %q is not K=V", kv)
		}
		c.Env = append(c.Env, &corev1.EnvVar{Name: k, Value: v})
	}
	if o.command {
		c.Command = args
	} else {
		c.Args = args
	}
	ns, _, err := env.NS()
	if err != nil {
		return err
	}
	pod := &corev1.Pod{ApiVersion: "v1", Kind: "Pod",
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{c}, RestartPolicy: o.restart}}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	k, _ := scheme.Lookup("pods")
	if _, err := resource.For(conn, k).Create(ctx, pod); err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "pod/%s created\n", name)
	return nil
}
