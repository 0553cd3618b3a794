package command

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/printer"
	"github.com/tugboat-sh/tugboat/cli/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func newScale(env *Env) *cobra.Command {
	var replicas, current int32
	cmd := &cobra.Command{
		Use:   "scale --replicas=COUNT TYPE NAME | TYPE/NAME",
		Short: "Set the number of replicas of a deployment or replica set",
		Example: `  tug scale --replicas=1 rs replicaset-x
  tug scale deployment/deployment-09 --replicas=3 --current-replicas=2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("replicas") || replicas < 0 {
				return fmt.Errorf("--replicas=COUNT is required, and COUNT must be 0 or more")
			}
			check := int32(-1)
			if cmd.Flags().Changed("current-replicas") {
				check = current
			}
			return runScale(cmd.Context(), env, args, replicas, check)
		},
	}
	cmd.Flags().Int32Var(&replicas, "replicas", 0, "the new number of replicas")
	cmd.Flags().Int32Var(&current, "current-replicas", 0, "scale only if the object has this many replicas now")
	return cmd
}

func runScale(ctx context.Context, env *Env, args []string, replicas, current int32) error {
	targets, err := parseTargets(args)
	if err != nil {
		return err
	}
	ns, _, err := env.NS()
	if err != nil {
		return err
	}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	var failed []error
	for _, t := range targets {
		if len(t.names) == 0 {
			return fmt.Errorf("give the names of the %s to scale", t.kind.Resource)
		}
		c := resource.For(conn, t.kind)
		for _, name := range t.names {
			if err := scaleOne(ctx, c, ns, name, replicas, current); err != nil {
				failed = append(failed, err)
				continue
			}
			fmt.Fprintf(env.Out, "%s/%s scaled\n", printer.Resource(t.kind), name)
		}
	}
	return reportAll(env, failed)
}

// scaleOne sets spec.replicas, retrying when another writer got there first.
func scaleOne(ctx context.Context, c *resource.Client, ns, name string, replicas, current int32) error {
	for attempt := 0; ; attempt++ {
		obj, err := c.Get(ctx, ns, name)
		if err != nil {
			return err
		}
		spec, fd, ok := replicasField(obj)
		if !ok {
			return fmt.Errorf("%s %q cannot be scaled: it has no spec.replicas", c.Kind.Singular, name)
		}
		now := int32(1) // an unset replicas means one
		if spec.Has(fd) {
			now = int32(spec.Get(fd).Int())
		}
		if current >= 0 && now != current {
			return fmt.Errorf("Expected replicas to be %d, was %d", current, now)
		}
		spec.Set(fd, protoreflect.ValueOfInt32(replicas))
		_, err = c.Update(ctx, obj)
		if status.Code(err) == codes.Aborted && attempt < 5 {
			continue
		}
		return err
	}
}

// replicasField finds obj's spec and its replicas field.
func replicasField(obj proto.Message) (protoreflect.Message, protoreflect.FieldDescriptor, bool) {
	r := obj.ProtoReflect()
	sfd := r.Descriptor().Fields().ByName("spec")
	if sfd == nil || sfd.Message() == nil {
		return nil, nil, false
	}
	spec := r.Mutable(sfd).Message()
	fd := spec.Descriptor().Fields().ByName("replicas")
	if fd == nil || fd.Kind() != protoreflect.Int32Kind {
		return nil, nil, false
	}
	return spec, fd, true
}
