package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/printer"
	"github.com/tugboat-sh/tugboat/cli/resource"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/proto"
)

// createKinds are "create namespace", "create secret generic" and
// "create configmap": objects made from flags rather than a manifest.
func createKinds(env *Env) []*cobra.Command {
	ns := &cobra.Command{
		Use:     "namespace NAME",
		Aliases: []string{"ns"},
		Short:   "Create a namespace",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return createObject(cmd.Context(), env, &corev1.Namespace{ApiVersion: "v1", Kind: "Namespace", Metadata: &metav1.ObjectMeta{Name: args[0]}})
		},
	}
	var secretData dataFlags
	var secretType string
	generic := &cobra.Command{
		Use:   "generic NAME [--from-file=[KEY=]PATH] [--from-literal=KEY=VALUE]",
		Short: "Create a secret from files and literal values",
		Example: `  tug create secret generic apikey --from-file=./apikey.txt
  tug create secret generic db --from-literal=user=admin --from-literal=password=s3cret`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := secretData.read()
			if err != nil {
				return err
			}
			s := &corev1.Secret{ApiVersion: "v1", Kind: "Secret", Metadata: &metav1.ObjectMeta{Name: args[0]}, Type: secretType, Data: map[string][]byte{}}
			for k, v := range data {
				s.Data[k] = v
			}
			return createObject(cmd.Context(), env, s)
		},
	}
	secretData.addFlags(generic)
	generic.Flags().StringVar(&secretType, "type", "Opaque", "the secret's type")
	secret := &cobra.Command{Use: "secret", Short: "Create a secret", Args: cobra.NoArgs}
	secret.AddCommand(generic)
	var cmData dataFlags
	cm := &cobra.Command{
		Use:     "configmap NAME [--from-file=[KEY=]PATH] [--from-literal=KEY=VALUE]",
		Aliases: []string{"cm"},
		Short:   "Create a config map from files and literal values",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := cmData.read()
			if err != nil {
				return err
			}
			c := &corev1.ConfigMap{ApiVersion: "v1", Kind: "ConfigMap", Metadata: &metav1.ObjectMeta{Name: args[0]}, Data: map[string]string{}}
			for k, v := range data {
				c.Data[k] = string(v)
			}
			return createObject(cmd.Context(), env, c)
		},
	}
	cmData.addFlags(cm)
	return []*cobra.Command{ns, secret, cm, newCreateJob(env), newCreateServiceAccount(env), newCreateToken(env)}
}

// dataFlags are --from-file and --from-literal.
type dataFlags struct {
	files, literals []string
}

func (d *dataFlags) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&d.files, "from-file", nil, "a file whose content is a value, keyed by its base name or KEY=PATH (repeatable)")
	cmd.Flags().StringArrayVar(&d.literals, "from-literal", nil, "a KEY=VALUE pair (repeatable)")
}

// read collects the keys and values; a key given twice is an error.
func (d *dataFlags) read() (map[string][]byte, error) {
	out := map[string][]byte{}
	add := func(k string, v []byte) error {
		if errs := names.ConfigMapKey(k); len(errs) > 0 {
			return fmt.Errorf("invalid key name %q: %s", k, names.Join(errs))
		}
		if _, dup := out[k]; dup {
			return fmt.Errorf("cannot add key %q, another key by that name already exists", k)
		}
		out[k] = v
		return nil
	}
	for _, f := range d.files {
		key, path := filepath.Base(f), f
		if k, p, ok := strings.Cut(f, "="); ok {
			key, path = k, p
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--from-file: %w", err)
		}
		if err := add(key, b); err != nil {
			return nil, err
		}
	}
	for _, l := range d.literals {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--from-literal %q: want KEY=VALUE", l)
		}
		if err := add(k, []byte(v)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// createObject creates obj in the request's namespace and says so.
func createObject(ctx context.Context, env *Env, obj proto.Message) error {
	k, ok := scheme.ForMessage(obj)
	if !ok {
		return fmt.Errorf("no kind for %T", obj)
	}
	if k.Namespaced {
		ns, _, err := env.NS()
		if err != nil {
			return err
		}
		resource.Meta(obj).Namespace = ns
	}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	out, err := resource.For(conn, k).Create(ctx, obj)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "%s created\n", printer.Name(k, out))
	return nil
}
