package command

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/printer"
	"github.com/tugboat-sh/tugboat/cli/resource"
	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/retry"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func newScale(env *Env) *cobra.Command {
	var replicas, current int32
	o := &fileOptions{}
	cmd := &cobra.Command{
		Use:   "scale --replicas=COUNT (-f FILENAME | TYPE NAME | TYPE/NAME)",
		Short: "Set the number of replicas of a deployment or replica set",
		Example: `  tug scale --replicas=1 rs replicaset-x
  tug scale deployment/deployment-09 --replicas=3 --current-replicas=2
  tug scale --replicas=3 -f deployment-09.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("replicas") || replicas < 0 {
				return fmt.Errorf("--replicas=COUNT is required, and COUNT must be 0 or more")
			}
			check := int32(-1)
			if cmd.Flags().Changed("current-replicas") {
				check = current
			}
			items, err := scaleItems(env, o, args)
			if err != nil {
				return err
			}
			return runScale(cmd.Context(), env, items, replicas, check)
		},
	}
	cmd.Flags().Int32Var(&replicas, "replicas", 0, "the new number of replicas")
	cmd.Flags().Int32Var(&current, "current-replicas", 0, "scale only if the object has this many replicas now")
	o.addFlags(cmd, "of the objects to scale")
	return cmd
}

// scaleItem is one object to scale.
type scaleItem struct {
	kind      scheme.Kind
	namespace string
	name      string
}

// scaleItems are the objects of -f, or of TYPE NAME... or TYPE/NAME....
func scaleItems(env *Env, o *fileOptions, args []string) ([]scaleItem, error) {
	var items []scaleItem
	switch {
	case len(o.files) > 0 && len(args) > 0:
		return nil, fmt.Errorf("give either -f or TYPE NAME, not both")
	case len(o.files) > 0:
		objs, err := o.objects(env)
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			m := resource.Meta(obj.Obj)
			items = append(items, scaleItem{obj.Kind, m.GetNamespace(), m.GetName()})
		}
		return items, nil
	case len(args) == 0:
		return nil, fmt.Errorf("give what to scale: -f FILENAME, TYPE NAME or TYPE/NAME")
	}
	targets, err := parseTargets(args)
	if err != nil {
		return nil, err
	}
	ns, _, err := env.NS()
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		if len(t.names) == 0 {
			return nil, fmt.Errorf("give the names of the %s to scale", t.kind.Resource)
		}
		for _, name := range t.names {
			items = append(items, scaleItem{t.kind, ns, name})
		}
	}
	return items, nil
}

func runScale(ctx context.Context, env *Env, items []scaleItem, replicas, current int32) error {
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	cs := clientset.New(conn)
	var failed []error
	for _, it := range items {
		if sub := scaleSubresource(cs, it.kind.Kind); sub != nil {
			err = scaleThrough(ctx, sub, it.namespace, it.name, replicas, current)
		} else {
			err = scaleOne(ctx, resource.For(conn, it.kind), it.namespace, it.name, replicas, current)
		}
		if err != nil {
			failed = append(failed, err)
			continue
		}
		fmt.Fprintf(env.Out, "%s/%s scaled\n", printer.Resource(it.kind), it.name)
	}
	return reportAll(env, failed)
}

// scaler is the scale subresource of a kind (deployments/scale,
// replicasets/scale).
type scaler interface {
	GetScale(ctx context.Context, in *metav1.GetOptions, opts ...grpc.CallOption) (*appsv1.Scale, error)
	UpdateScale(ctx context.Context, in *appsv1.Scale, opts ...grpc.CallOption) (*appsv1.Scale, error)
}

// scaleSubresource is the scale subresource of kind, nil when it has none.
func scaleSubresource(cs *clientset.Set, kind string) scaler {
	switch kind {
	case "Deployment":
		return cs.Deployments()
	case "ReplicaSet":
		return cs.ReplicaSets()
	}
	return nil
}

// scaleThrough sets the replicas through the scale subresource; with a
// --current-replicas precondition (current >= 0) the update carries the
// resourceVersion read, so that it fails rather than overwrite a count
// changed in between, and is tried again from a fresh read.
func scaleThrough(ctx context.Context, sc scaler, ns, name string, replicas, current int32) error {
	return retry.OnConflict(func() error {
		s, err := sc.GetScale(ctx, &metav1.GetOptions{Namespace: ns, Name: name})
		if err != nil {
			return err
		}
		if current >= 0 && s.GetSpec().GetReplicas() != current {
			return fmt.Errorf("Expected replicas to be %d, was %d", current, s.GetSpec().GetReplicas())
		}
		upd := &appsv1.Scale{
			Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:     &appsv1.ScaleSpec{Replicas: replicas},
		}
		if current >= 0 {
			upd.Metadata.ResourceVersion = s.GetMetadata().GetResourceVersion()
		}
		_, err = sc.UpdateScale(ctx, upd)
		return err
	})
}

// scaleOne sets spec.replicas of a kind without a scale subresource, retrying when another writer got there first.
func scaleOne(ctx context.Context, c *resource.Client, ns, name string, replicas, current int32) error {
	return retry.OnConflict(func() error {
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
		return err
	})
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
