package command

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/printer"
	"github.com/tugboat-sh/tugboat/cli/resource"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/selector"
	"google.golang.org/protobuf/proto"
)

type getOptions struct {
	output, selector, fieldSelector string
	showLabels, allNamespaces       bool
	watch, noHeaders                bool
}

func newGet(env *Env) *cobra.Command {
	o := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get TYPE[,TYPE...] [NAME...] | TYPE/NAME...",
		Short: "Display one or many resources",
		Example: `  tug get pods
  tug get po -o wide
  tug get pods -l 'env in (production, development)' --show-labels
  tug get pod/second-pod -o yaml
  tug get nodes,pods -A`,
		ValidArgs: resourceNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGet(cmd.Context(), env, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "output format: wide, yaml, json or name")
	f.StringVarP(&o.selector, "selector", "l", "", "label selector: k=v, k!=v, 'k in (a, b)', 'k notin (a)', k, !k, joined by commas")
	f.StringVar(&o.fieldSelector, "field-selector", "", "field selector, e.g. status.phase=Running,spec.nodeName=node1")
	f.BoolVar(&o.showLabels, "show-labels", false, "show every label as the last column")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	f.BoolVarP(&o.watch, "watch", "w", false, "after listing, watch for changes")
	f.BoolVar(&o.noHeaders, "no-headers", false, "print no column headers")
	return cmd
}

func runGet(ctx context.Context, env *Env, o *getOptions, args []string) error {
	switch o.output {
	case "", "wide", "yaml", "json", "name":
	default:
		return fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json,name,wide,yaml", o.output)
	}
	if o.selector != "" {
		if _, err := selector.Parse(o.selector); err != nil {
			return err
		}
	}
	targets, err := parseTargets(args)
	if err != nil {
		return err
	}
	ns, _, err := env.NS()
	if err != nil {
		return err
	}
	if o.allNamespaces {
		ns = ""
	}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	var failed []error
	var all []proto.Message
	printedTable := false
	for _, t := range targets {
		c := resource.For(conn, t.kind)
		var objs []proto.Message
		var rv string
		if len(t.names) > 0 {
			for _, name := range t.names {
				obj, err := c.Get(ctx, ns, name)
				if err != nil {
					failed = append(failed, err)
					continue
				}
				objs = append(objs, obj)
			}
		} else {
			objs, rv, err = c.List(ctx, &metav1.ListOptions{Namespace: ns, LabelSelector: o.selector, FieldSelector: o.fieldSelector})
			if err != nil {
				return err
			}
		}
		all = append(all, objs...)
		if o.output == "yaml" || o.output == "json" {
			continue
		}
		if o.output == "name" {
			for _, obj := range objs {
				fmt.Fprintln(env.Out, printer.Name(t.kind, obj))
			}
			continue
		}
		if len(objs) == 0 && !o.watch {
			continue
		}
		if printedTable {
			fmt.Fprintln(env.Out)
		}
		popts := printer.Options{Wide: o.output == "wide", ShowLabels: o.showLabels, AllNamespaces: o.allNamespaces, NoHeaders: o.noHeaders, WithKind: len(targets) > 1}
		if err := printer.Table(env.Out, t.kind, objs, popts); err != nil {
			return err
		}
		printedTable = true
		if o.watch {
			return watch(ctx, env.Out, c, ns, o, rv, popts)
		}
	}
	switch o.output {
	case "yaml":
		err = printer.YAML(env.Out, all, singleRequest(targets))
	case "json":
		err = printer.JSON(env.Out, all, singleRequest(targets))
	}
	if err != nil {
		return err
	}
	if len(all) == 0 && len(failed) == 0 && o.output != "yaml" && o.output != "json" {
		if ns == "" || !targets[0].kind.Namespaced {
			fmt.Fprintln(env.Err, "No resources found")
		} else {
			fmt.Fprintf(env.Err, "No resources found in %s namespace.\n", ns)
		}
	}
	return reportAll(env, failed)
}

// watch prints a row for every change after resourceVersion rv.
func watch(ctx context.Context, out io.Writer, c *resource.Client, ns string, o *getOptions, rv string, popts printer.Options) error {
	popts.NoHeaders = true
	return c.Watch(ctx, &metav1.ListOptions{Namespace: ns, LabelSelector: o.selector, FieldSelector: o.fieldSelector, ResourceVersion: rv}, func(ev resource.Event) error {
		if ev.Object == nil || ev.Type == "BOOKMARK" {
			return nil
		}
		if o.output == "name" {
			_, err := fmt.Fprintln(out, printer.Name(c.Kind, ev.Object))
			return err
		}
		tw := printer.NewWriter(out)
		printer.PrintRow(tw, printer.Row(c.Kind, ev.Object, popts))
		return tw.Flush()
	})
}

// singleRequest says one object was asked for by name, which -o yaml and
// -o json print alone rather than in a List.
func singleRequest(ts []target) bool { return len(ts) == 1 && len(ts[0].names) == 1 }

// reportAll prints every error but the last and returns the last, so that
// each not-found name gets its line and the exit code is non-zero.
func reportAll(env *Env, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs[:len(errs)-1] {
		fmt.Fprintln(env.Err, Message(e, env.server()))
	}
	return errs[len(errs)-1]
}
