package command

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/apply"
	"github.com/tugboat-sh/tugboat/cli/resource"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/proto"
)

// exposable are the kinds tug expose takes, as kubectl.
var exposable = map[string]bool{"Deployment": true, "ReplicaSet": true, "Pod": true, "Service": true}

func newExpose(env *Env) *cobra.Command {
	o := &exposeOptions{}
	cmd := &cobra.Command{
		Use:   "expose (-f FILE | TYPE NAME | TYPE/NAME) [--port=PORT] [--target-port=PORT] [--name=NAME] [--type=TYPE] [--protocol=TCP|UDP] [--selector=K=V,...]",
		Short: "Expose a deployment, replica set, pod or service as a new Service",
		Long: `Expose a deployment, replica set, pod or service as a new Service, as
kubectl does: the Service selects the pods of the deployment's or replica
set's selector, the pod's labels or the service's selector (or --selector),
and serves --port (by default the object's only container port; several
ports become port-1, port-2, ...) on --target-port (by default the same).`,
		Example: `  tug expose deployment deployment-for-service --port=80 --target-port=9876
  tug expose pod second-pod --port=80 --target-port=9876 --name=second-svc --type=NodePort
  tug expose -f deployment-for-service.yaml --port=80 --target-port=9876`,
		ValidArgs: []string{"deployment", "pod", "replicaset", "service"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExpose(cmd.Context(), env, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.port, "port", "", "the port the Service serves on (default: the object's container port, when it has one)")
	f.StringVar(&o.targetPort, "target-port", "", "the pods' port, a number or a container port name (default: --port)")
	f.StringVar(&o.name, "name", "", "the Service's name (default: the object's)")
	f.StringVar(&o.typ, "type", "", "ClusterIP (default), NodePort or LoadBalancer")
	f.StringVar(&o.protocol, "protocol", "", "TCP (default), UDP or SCTP")
	f.StringVar(&o.selector, "selector", "", "the pods to select, k=v,k=v (default: the object's)")
	f.StringVarP(&o.labels, "labels", "l", "", "the Service's labels, k=v,k=v (default: the object's)")
	f.StringVar(&o.clusterIP, "cluster-ip", "", "the Service's cluster IP, or None for a headless Service (default: allocated)")
	f.StringVar(&o.affinity, "session-affinity", "", "None (default) or ClientIP")
	f.StringVarP(&o.file, "filename", "f", "", "a manifest of the objects to expose")
	return cmd
}

func runExpose(ctx context.Context, env *Env, o *exposeOptions, args []string) error {
	ns, _, err := env.NS()
	if err != nil {
		return err
	}
	var objs []proto.Message
	var fetch *target
	switch {
	case o.file != "" && len(args) > 0:
		return fmt.Errorf("give either -f or TYPE NAME, not both")
	case o.file != "":
		srcs, err := apply.Read(o.file, env.In, false)
		if err != nil {
			return err
		}
		decoded, err := apply.Decode(srcs, ns, env.Err)
		if err != nil {
			return err
		}
		for _, d := range decoded {
			objs = append(objs, d.Obj)
		}
	default:
		if len(args) == 0 {
			return fmt.Errorf("you must provide one TYPE NAME or TYPE/NAME to expose, or -f FILE")
		}
		ts, err := parseTargets(args)
		if err != nil {
			return err
		}
		if len(ts) != 1 || len(ts[0].names) != 1 {
			return fmt.Errorf("you must provide one TYPE NAME or TYPE/NAME to expose, or -f FILE")
		}
		fetch = &ts[0]
	}
	if fetch != nil && !exposable[fetch.kind.Kind] {
		return fmt.Errorf("cannot expose a %s: only deployments, replica sets, pods and services", fetch.kind.Kind)
	}
	if len(objs) > 1 && o.name != "" {
		return fmt.Errorf("--name names one Service, but %s holds %d objects", o.file, len(objs))
	}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	if fetch != nil {
		obj, err := resource.For(conn, fetch.kind).Get(ctx, ns, fetch.names[0])
		if err != nil {
			return err
		}
		objs = append(objs, obj)
	}
	svcKind, _ := scheme.Lookup("services")
	// Build every Service first, so that bad input creates none.
	var svcs []proto.Message
	for _, obj := range objs {
		meta := resource.Meta(obj)
		if k, ok := scheme.ForMessage(obj); !ok || !exposable[k.Kind] {
			return fmt.Errorf("cannot expose a %s: only deployments, replica sets, pods and services", k.Kind)
		}
		objNS := meta.GetNamespace()
		if objNS == "" {
			objNS = ns
		}
		svc, err := serviceFor(obj, meta.GetName(), objNS, o)
		if err != nil {
			return err
		}
		svcs = append(svcs, svc)
	}
	for _, svc := range svcs {
		if _, err := resource.For(conn, svcKind).Create(ctx, svc); err != nil {
			return err
		}
		fmt.Fprintf(env.Out, "service/%s exposed\n", resource.Meta(svc).GetName())
	}
	return nil
}
