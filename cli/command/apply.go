package command

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/apply"
	"github.com/tugboat-sh/tugboat/cli/printer"
	"google.golang.org/protobuf/proto"
)

type fileOptions struct {
	files     []string
	recursive bool
	output    string
}

func (o *fileOptions) addFlags(cmd *cobra.Command, what string) {
	cmd.Flags().StringSliceVarP(&o.files, "filename", "f", nil, "file, directory or - (standard input) holding the manifests "+what)
	cmd.Flags().BoolVarP(&o.recursive, "recursive", "R", false, "read the directories of -f recursively")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
}

// objects reads and checks every manifest of -f; nothing is returned when
// anything is wrong.
func (o *fileOptions) objects(env *Env) ([]apply.Object, error) {
	if len(o.files) == 0 {
		return nil, fmt.Errorf("must specify one of -f and -k")
	}
	ns, explicit, err := env.NS()
	if err != nil {
		return nil, err
	}
	var sources []apply.Source
	for _, f := range o.files {
		s, err := apply.Read(f, env.In, o.recursive)
		if err != nil {
			return nil, err
		}
		sources = append(sources, s...)
	}
	objs, err := apply.Decode(sources, ns, env.Err)
	if err != nil {
		return nil, err
	}
	for _, obj := range objs {
		if err := apply.Namespace(obj, ns, explicit); err != nil {
			return nil, err
		}
	}
	return objs, nil
}

func newApply(env *Env) *cobra.Command {
	o := &fileOptions{}
	cmd := &cobra.Command{
		Use:   "apply -f FILENAME",
		Short: "Create or update resources from manifests (YAML or JSON, several documents per file)",
		Example: `  tug apply -f second-pod.yaml
  tug apply -f manifests/
  cat pod.json | tug apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runApply(cmd.Context(), env, o, false)
		},
	}
	o.addFlags(cmd, "to apply")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "print only the names of the objects (name)")
	return cmd
}

func newCreate(env *Env) *cobra.Command {
	o := &fileOptions{}
	cmd := &cobra.Command{
		Use:   "create -f FILENAME | create namespace|secret generic|configmap NAME",
		Short: "Create resources from manifests or flags; an object that exists already is an error",
		Example: `  tug create -f second-pod.yaml
  tug create namespace test
  tug create secret generic apikey --from-file=./apikey.txt
  tug create configmap settings --from-literal=mode=fast`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runApply(cmd.Context(), env, o, true)
		},
	}
	o.addFlags(cmd, "to create")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "print only the names of the objects (name)")
	cmd.AddCommand(createKinds(env)...)
	return cmd
}

func runApply(ctx context.Context, env *Env, o *fileOptions, createOnly bool) error {
	if o.output != "" && o.output != "name" {
		return fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: name", o.output)
	}
	objs, err := o.objects(env)
	if err != nil {
		return err
	}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	var failed []error
	for _, obj := range objs {
		result := apply.Created
		var out proto.Message
		var err error
		if createOnly {
			out, err = apply.Create(ctx, conn, obj)
		} else {
			result, out, err = apply.Apply(ctx, conn, obj)
		}
		if err != nil {
			failed = append(failed, err)
			continue
		}
		// The server's copy names an object made from generateName.
		name := printer.Name(obj.Kind, out)
		if o.output == "name" {
			fmt.Fprintln(env.Out, name)
		} else {
			fmt.Fprintf(env.Out, "%s %s\n", name, result)
		}
	}
	return reportAll(env, failed)
}
