package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/printer"
	"github.com/tugboat-sh/tugboat/cli/resource"
	"github.com/tugboat-sh/tugboat/client/retry"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
	"google.golang.org/protobuf/proto"
)

type labelOptions struct {
	overwrite, all bool
	selector       string
}

func newLabel(env *Env) *cobra.Command {
	o := &labelOptions{}
	cmd := &cobra.Command{
		Use:   "label TYPE NAME... KEY=VALUE... [KEY-...] | TYPE/NAME... KEY=VALUE...",
		Short: "Add, change (--overwrite) or remove (KEY-) labels of resources",
		Example: `  tug label pods pod-label owner=ipeacocks
  tug label nodes node1 shouldrun=here
  tug label pods pod-label owner=someone --overwrite
  tug label pods pod-label owner-`,
		ValidArgs: resourceNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLabel(cmd.Context(), env, o, args)
		},
	}
	cmd.Flags().BoolVar(&o.overwrite, "overwrite", false, "allow changing the value of a label that is set")
	cmd.Flags().BoolVar(&o.all, "all", false, "label every object of the type in the namespace")
	cmd.Flags().StringVarP(&o.selector, "selector", "l", "", "label the objects matching this selector")
	return cmd
}

// labelChanges splits args into object arguments and label changes: set
// (k=v) and removed (k-).
func labelChanges(args []string) (objs []string, set map[string]string, remove []string, err error) {
	set = map[string]string{}
	for _, a := range args {
		switch {
		case strings.Contains(a, "="):
			k, v, _ := strings.Cut(a, "=")
			if errs := names.LabelKey(k); len(errs) > 0 {
				return nil, nil, nil, fmt.Errorf("invalid label key %q: %s", k, strings.Join(errs, "; "))
			}
			if errs := names.LabelValue(v); len(errs) > 0 {
				return nil, nil, nil, fmt.Errorf("invalid label value %q of key %q: %s", v, k, strings.Join(errs, "; "))
			}
			set[k] = v
		case strings.HasSuffix(a, "-") && len(objs) > 0:
			remove = append(remove, strings.TrimSuffix(a, "-"))
		default:
			if len(set) > 0 || len(remove) > 0 {
				return nil, nil, nil, fmt.Errorf("%q: object names must come before the label changes", a)
			}
			objs = append(objs, a)
		}
	}
	if len(set) == 0 && len(remove) == 0 {
		return nil, nil, nil, fmt.Errorf("at least one label update is required")
	}
	return objs, set, remove, nil
}

func runLabel(ctx context.Context, env *Env, o *labelOptions, args []string) error {
	objArgs, set, remove, err := labelChanges(args)
	if err != nil {
		return err
	}
	targets, err := parseTargets(objArgs)
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
		c := resource.For(conn, t.kind)
		todo := t.names
		if len(todo) == 0 {
			if !o.all && o.selector == "" {
				return fmt.Errorf("resource(s) were provided, but no name was specified; give names, -l SELECTOR or --all")
			}
			items, _, err := c.List(ctx, &metav1.ListOptions{Namespace: ns, LabelSelector: o.selector})
			if err != nil {
				return err
			}
			for _, it := range items {
				todo = append(todo, resource.Meta(it).GetName())
			}
		}
		for _, name := range todo {
			changed, err := relabel(ctx, c, ns, name, set, remove, o.overwrite)
			if err != nil {
				failed = append(failed, err)
				continue
			}
			verb := "labeled"
			if !changed {
				verb = "not labeled"
			}
			fmt.Fprintf(env.Out, "%s/%s %s\n", printer.Resource(t.kind), name, verb)
		}
	}
	return reportAll(env, failed)
}

// relabel applies the changes to one object, retrying when another
// writer got there first.
func relabel(ctx context.Context, c *resource.Client, ns, name string, set map[string]string, remove []string, overwrite bool) (changed bool, err error) {
	err = retry.OnConflict(func() error {
		changed, err = relabelOnce(ctx, c, ns, name, set, remove, overwrite)
		return err
	})
	return changed, err
}

// relabelOnce reads the object and writes the changed labels back.
func relabelOnce(ctx context.Context, c *resource.Client, ns, name string, set map[string]string, remove []string, overwrite bool) (bool, error) {
	obj, err := c.Get(ctx, ns, name)
	if err != nil {
		return false, err
	}
	before := proto.Clone(obj)
	m := resource.Meta(obj)
	for k, v := range set {
		if old, ok := m.GetLabels()[k]; ok && old != v && !overwrite {
			return false, fmt.Errorf("'%s' already has a value (%s), and --overwrite is false", k, old)
		}
		if m.Labels == nil {
			m.Labels = map[string]string{}
		}
		m.Labels[k] = v
	}
	for _, k := range remove {
		delete(m.Labels, k)
	}
	if proto.Equal(before, obj) {
		return false, nil
	}
	_, err = c.Update(ctx, obj)
	return err == nil, err
}
