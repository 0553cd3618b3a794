package command

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/client/config"
)

func newVersion(env *Env) *cobra.Command {
	var client bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client and server versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(env.Out, "Client Version: %s\n", Version)
			if client {
				return nil
			}
			v, err := serverVersion(cmd.Context(), env)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Out, "Server Version: %s\n", v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&client, "client", false, "the client's version only")
	return cmd
}

// serverVersion reads /version, which the apiserver serves on its one port.
func serverVersion(ctx context.Context, env *Env) (string, error) {
	cfg, err := env.Config()
	if err != nil {
		return "", err
	}
	base, err := httpBase(cfg)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/version", nil)
	if err != nil {
		return "", err
	}
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	hc := &http.Client{}
	if tc, err := config.TLSConfig(cfg); err == nil && base[:5] == "https" {
		hc.Transport = &http.Transport{TLSClientConfig: tc}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("Unable to connect to the server %s: %w", cfg.Server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("server %s answered /version with %s", cfg.Server, resp.Status)
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return "", fmt.Errorf("server %s: read /version: %w", cfg.Server, err)
	}
	return v.GitVersion, nil
}

// httpBase is the server's URL with its scheme: http:// for a bare host:port.
func httpBase(cfg *config.Config) (string, error) {
	target, secure, err := config.Target(cfg.Server)
	if err != nil {
		return "", err
	}
	if secure {
		return "https://" + target, nil
	}
	return "http://" + target, nil
}

func newClusterInfo(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "cluster-info",
		Short: "Say where the control plane runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := serverVersion(cmd.Context(), env); err != nil {
				return err
			}
			base, _ := httpBase(env.cfg)
			fmt.Fprintf(env.Out, "Tugboat control plane is running at %s\n", base)
			fmt.Fprintf(env.Out, "\nTo see the nodes: tug get nodes; to further debug: tug describe node NAME\n")
			return nil
		},
	}
}
