package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/printer"
	"github.com/tugboat-sh/tugboat/cli/resource"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type deleteOptions struct {
	files          fileOptions
	selector       string
	all, now, wait bool
	grace          int32
	timeout        time.Duration
	ignoreNotFound bool
}

// toDelete is one object to delete.
type toDelete struct {
	c        *resource.Client
	ns, name string
}

func newDelete(env *Env) *cobra.Command {
	o := &deleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete (-f FILENAME | TYPE [NAME...] | TYPE/NAME... | TYPE -l SELECTOR | TYPE --all)",
		Short: "Delete resources by name, by manifest, by label selector, or all of a type",
		Example: `  tug delete pod second-pod
  tug delete -f second-pod.yaml
  tug delete pods -l env=development
  tug delete pods --all`,
		ValidArgs: resourceNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDelete(cmd.Context(), env, o, args, cmd.Flags().Changed("grace-period"))
		},
	}
	o.files.addFlags(cmd, "of the objects to delete")
	f := cmd.Flags()
	f.StringVarP(&o.selector, "selector", "l", "", "delete the objects matching this label selector")
	f.BoolVar(&o.all, "all", false, "delete every object of the type in the namespace")
	f.Int32Var(&o.grace, "grace-period", -1, "seconds the pod gets to stop (default: its own terminationGracePeriodSeconds)")
	f.BoolVar(&o.now, "now", false, "stop pods at once (--grace-period=1)")
	f.BoolVar(&o.wait, "wait", true, "wait until the objects are gone")
	f.DurationVar(&o.timeout, "timeout", 2*time.Minute, "how long to wait for the objects to be gone")
	f.BoolVar(&o.ignoreNotFound, "ignore-not-found", false, "an object that does not exist is not an error")
	return cmd
}

func runDelete(ctx context.Context, env *Env, o *deleteOptions, args []string, graceSet bool) error {
	ns, _, err := env.NS()
	if err != nil {
		return err
	}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	var todo []toDelete
	var failed []error
	switch {
	case len(o.files.files) > 0:
		if len(args) > 0 {
			return fmt.Errorf("names and -f cannot be given together")
		}
		objs, err := o.files.objects(env)
		if err != nil {
			return err
		}
		for _, obj := range objs {
			m := resource.Meta(obj.Obj)
			todo = append(todo, toDelete{c: resource.For(conn, obj.Kind), ns: m.GetNamespace(), name: m.GetName()})
		}
	default:
		targets, err := parseTargets(args)
		if err != nil {
			return err
		}
		for _, t := range targets {
			c := resource.For(conn, t.kind)
			if len(t.names) > 0 {
				if o.all || o.selector != "" {
					return fmt.Errorf("names cannot be given with --all or --selector")
				}
				for _, n := range t.names {
					todo = append(todo, toDelete{c: c, ns: ns, name: n})
				}
				continue
			}
			if !o.all && o.selector == "" {
				return fmt.Errorf("resource(s) were provided, but no name was specified; give names, -l SELECTOR or --all")
			}
			items, _, err := c.List(ctx, &metav1.ListOptions{Namespace: ns, LabelSelector: o.selector})
			if err != nil {
				return err
			}
			for _, it := range items {
				m := resource.Meta(it)
				todo = append(todo, toDelete{c: c, ns: m.GetNamespace(), name: m.GetName()})
			}
		}
	}
	var grace *int32
	switch {
	case o.now:
		g := int32(1)
		grace = &g
	case graceSet && o.grace >= 0:
		grace = &o.grace
	}
	var deleted []toDelete
	for _, d := range todo {
		if _, err := d.c.Delete(ctx, d.ns, d.name, grace); err != nil {
			if o.ignoreNotFound && status.Code(err) == codes.NotFound {
				continue
			}
			failed = append(failed, err)
			continue
		}
		deleted = append(deleted, d)
		fmt.Fprintf(env.Out, "%s %q deleted\n", printer.Resource(d.c.Kind), d.name)
	}
	if len(todo) == 0 && len(failed) == 0 {
		fmt.Fprintln(env.Err, "No resources found")
	}
	if o.wait {
		for _, d := range deleted {
			if err := waitGone(ctx, d, o.timeout); err != nil {
				failed = append(failed, err)
			}
		}
	}
	return reportAll(env, failed)
}

// expired says whether the wait's deadline passed: its context says so,
// or the call came back DeadlineExceeded (the server enforces the
// deadline the client sent, and can answer a moment before the client's
// own timer fires).
func expired(wctx context.Context, err error) bool {
	return wctx.Err() != nil || status.Code(err) == codes.DeadlineExceeded
}

// errGone ends a watch once the object is deleted.
var errGone = errors.New("gone")

// waitGone watches the object until it is gone or the timeout passes. A
// Get gives the resourceVersion the watch starts from, so a deletion
// between the two is still seen; when the stream ends early (the server
// closed it, or the version is too old) it gets and watches again.
func waitGone(ctx context.Context, d toDelete, timeout time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	timedOut := func() error {
		return fmt.Errorf("timed out after %v waiting for %s %q to be deleted", timeout, d.c.Kind.Singular, d.name)
	}
	for {
		obj, err := d.c.Get(wctx, d.ns, d.name)
		switch {
		case status.Code(err) == codes.NotFound:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case expired(wctx, err):
			return timedOut()
		case err != nil:
			return err
		}
		opts := &metav1.ListOptions{Namespace: d.ns, FieldSelector: "metadata.name=" + d.name, ResourceVersion: resource.Meta(obj).GetResourceVersion()}
		err = d.c.Watch(wctx, opts, func(ev resource.Event) error {
			if ev.Type == "DELETED" {
				return errGone
			}
			return nil
		})
		switch {
		case errors.Is(err, errGone):
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case expired(wctx, err):
			return timedOut()
		case err != nil && status.Code(err) != codes.OutOfRange:
			return fmt.Errorf("watch %s %q: %w", d.c.Kind.Singular, d.name, err)
		}
		// The stream ended or its version expired: get and watch again,
		// after a pause so a server that keeps closing streams is not hammered.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wctx.Done():
			return timedOut()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
