package command

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/printer"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
)

func newAPIResources(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "api-resources",
		Short: "List the resource types the API serves, with their short names",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			tw := printer.NewWriter(env.Out)
			printer.PrintRow(tw, []string{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"})
			for _, k := range scheme.All() {
				printer.PrintRow(tw, []string{k.Resource, strings.Join(k.ShortNames, ","), k.APIVersion(), fmt.Sprint(k.Namespaced), k.Kind})
			}
			return tw.Flush()
		},
	}
}
