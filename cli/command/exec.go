package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"golang.org/x/term"
)

type execOptions struct {
	container  string
	stdin, tty bool
}

func newExec(env *Env) *cobra.Command {
	o := &execOptions{}
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARG...]",
		Short: "Run a command in a container",
		Example: `  tug exec second-pod -c shell -- wget -qO- http://localhost:9876/info
  tug exec second-pod -c shell -i -t -- sh
  tug exec pod-env -- printenv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash != 1 || len(args) < 2 {
				return fmt.Errorf("give the pod, then -- and the command: tug exec POD -- COMMAND [ARG...]")
			}
			return runExec(cmd.Context(), env, o, strings.TrimPrefix(strings.TrimPrefix(args[0], "pods/"), "pod/"), args[1:])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.container, "container", "c", "", "the container (default: the pod's only, else its first)")
	f.BoolVarP(&o.stdin, "stdin", "i", false, "pass standard input to the command")
	f.BoolVarP(&o.tty, "tty", "t", false, "give the command a terminal")
	return cmd
}

func runExec(ctx context.Context, env *Env, o *execOptions, pod string, command []string) error {
	ns, _, err := env.NS()
	if err != nil {
		return err
	}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	pods := corev1.NewPodServiceClient(conn)
	container, err := defaultContainer(ctx, env, pods, ns, pod, o.container)
	if err != nil {
		return err
	}
	tty := o.tty
	inFile, isFile := env.In.(*os.File)
	if tty && (!o.stdin || !isFile || !term.IsTerminal(int(inFile.Fd()))) {
		if o.stdin {
			fmt.Fprintln(env.Err, "Unable to use a TTY - input is not a terminal or the right kind of file")
		}
		tty = false
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := pods.Exec(ctx)
	if err != nil {
		return err
	}
	start := &corev1.PodExecStart{Namespace: ns, Name: pod, Container: container, Command: command,
		Stdin: o.stdin, Stdout: true, Stderr: !tty, Tty: tty}
	if err := st.Send(&corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Start{Start: start}}); err != nil {
		return err
	}
	if tty {
		old, err := term.MakeRaw(int(inFile.Fd()))
		if err == nil {
			defer func() { _ = term.Restore(int(inFile.Fd()), old) }()
		}
		if w, h, err := term.GetSize(int(inFile.Fd())); err == nil {
			_ = st.Send(&corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Resize{Resize: &corev1.TerminalSize{Width: uint32(w), Height: uint32(h)}}})
		}
	}
	if o.stdin {
		go pumpStdin(env.In, st)
	} else {
		_ = st.CloseSend()
	}
	for {
		resp, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch m := resp.GetMsg().(type) {
		case *corev1.PodExecResponse_Stdout:
			_, _ = env.Out.Write(m.Stdout)
		case *corev1.PodExecResponse_Stderr:
			_, _ = env.Err.Write(m.Stderr)
		case *corev1.PodExecResponse_ExitCode:
			if m.ExitCode != 0 {
				if !tty {
					fmt.Fprintf(env.Err, "command terminated with exit code %d\n", m.ExitCode)
				}
				return exitError{code: int(m.ExitCode)}
			}
			return nil
		}
	}
}

// pumpStdin sends standard input, then its end.
func pumpStdin(in io.Reader, st corev1.PodService_ExecClient) {
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if st.Send(&corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Stdin{Stdin: append([]byte(nil), buf[:n]...)}}) != nil {
				return
			}
		}
		if err != nil {
			_ = st.Send(&corev1.PodExecRequest{Msg: &corev1.PodExecRequest_CloseStdin{CloseStdin: true}})
			return
		}
	}
}
