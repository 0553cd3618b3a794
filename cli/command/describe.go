package command

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/describe"
	"github.com/tugboat-sh/tugboat/cli/resource"
	"github.com/tugboat-sh/tugboat/client/clientset"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"github.com/tugboat-sh/tugboat/machinery/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func newDescribe(env *Env) *cobra.Command {
	var sel string
	cmd := &cobra.Command{
		Use:   "describe TYPE [NAME...] | TYPE/NAME",
		Short: "Show details of a resource or group of resources, with their events",
		Example: `  tug describe pod second-pod
  tug describe node node1
  tug describe svc service-for-pods
  tug describe pods -l env=development`,
		ValidArgs: resourceNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDescribe(cmd.Context(), env, args, sel)
		},
	}
	cmd.Flags().StringVarP(&sel, "selector", "l", "", "label selector of the objects to describe")
	return cmd
}

func runDescribe(ctx context.Context, env *Env, args []string, sel string) error {
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
	first := true
	for _, t := range targets {
		c := resource.For(conn, t.kind)
		var objs []proto.Message
		if len(t.names) == 0 {
			if objs, _, err = c.List(ctx, &metav1.ListOptions{Namespace: ns, LabelSelector: sel}); err != nil {
				return err
			}
		}
		for _, name := range t.names {
			obj, err := c.Get(ctx, ns, name)
			if err != nil {
				failed = append(failed, err)
				continue
			}
			objs = append(objs, obj)
		}
		for _, obj := range objs {
			if !first {
				fmt.Fprintln(env.Out)
			}
			first = false
			if err := describeOne(ctx, env, conn, t.kind, obj); err != nil {
				return err
			}
		}
	}
	return reportAll(env, failed)
}

func describeOne(ctx context.Context, env *Env, conn grpc.ClientConnInterface, k scheme.Kind, obj proto.Message) error {
	meta := resource.Meta(obj)
	events, err := eventsFor(ctx, conn, k, meta)
	if err != nil {
		return err
	}
	now := time.Now()
	switch o := obj.(type) {
	case *corev1.Pod:
		return describe.Pod(env.Out, o, events, now)
	case *corev1.Node:
		pods, err := podsOn(ctx, conn, meta.GetName())
		if err != nil {
			return err
		}
		return describe.Node(env.Out, o, pods, events, now)
	case *corev1.Secret:
		return describe.Secret(env.Out, o, events, now)
	case *corev1.Service:
		ep, err := clientset.New(conn).Endpoints().Get(ctx, &metav1.GetOptions{Namespace: meta.GetNamespace(), Name: meta.GetName()})
		if status.Code(err) == codes.NotFound {
			ep, err = nil, nil
		}
		if err != nil {
			return err
		}
		return describe.Service(env.Out, o, ep, events, now)
	case *appsv1.Deployment:
		rss, err := replicaSetsOf(ctx, conn, o)
		if err != nil {
			return err
		}
		return describe.Deployment(env.Out, o, rss, events, now)
	}
	return describe.Generic(env.Out, obj, meta, events, now)
}

// eventsFor lists the Events about one object.
func eventsFor(ctx context.Context, conn grpc.ClientConnInterface, k scheme.Kind, meta *metav1.ObjectMeta) ([]*corev1.Event, error) {
	ek, _ := scheme.Lookup("events")
	fs := "involvedObject.kind=" + k.Kind + ",involvedObject.name=" + meta.GetName()
	// A node's events name it by name only (Kubernetes' kubelet puts the
	// node's name in involvedObject.uid), so nodes are matched by name.
	if meta.GetUid() != "" && k.Kind != "Node" {
		fs += ",involvedObject.uid=" + meta.GetUid()
	}
	ns := meta.GetNamespace()
	if !k.Namespaced {
		ns = "" // a node's events live in whatever namespace their recorder chose
	}
	items, _, err := resource.For(conn, ek).List(ctx, &metav1.ListOptions{Namespace: ns, FieldSelector: fs})
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Event, len(items))
	for i, it := range items {
		out[i] = it.(*corev1.Event)
	}
	return out, nil
}

// replicaSetsOf lists the ReplicaSets d controls.
func replicaSetsOf(ctx context.Context, conn grpc.ClientConnInterface, d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	sel, err := selector.ToString(d.GetSpec().GetSelector())
	if err != nil {
		return nil, fmt.Errorf("deployment %s: selector: %w", d.GetMetadata().GetName(), err)
	}
	list, err := clientset.New(conn).ReplicaSets().List(ctx, &metav1.ListOptions{Namespace: d.GetMetadata().GetNamespace(), LabelSelector: sel})
	if err != nil {
		return nil, err
	}
	var out []*appsv1.ReplicaSet
	for _, rs := range list.GetItems() {
		for _, r := range rs.GetMetadata().GetOwnerReferences() {
			if r.GetController() && r.GetUid() == d.GetMetadata().GetUid() {
				out = append(out, rs)
			}
		}
	}
	return out, nil
}

// podsOn lists the non-terminated pods bound to a node.
func podsOn(ctx context.Context, conn grpc.ClientConnInterface, node string) ([]*corev1.Pod, error) {
	pk, _ := scheme.Lookup("pods")
	items, _, err := resource.For(conn, pk).List(ctx, &metav1.ListOptions{FieldSelector: "spec.nodeName=" + node + ",status.phase!=Succeeded,status.phase!=Failed"})
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, len(items))
	for i, it := range items {
		out[i] = it.(*corev1.Pod)
	}
	return out, nil
}
