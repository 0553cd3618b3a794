package rollout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// TimedOutReason is the Progressing condition's reason once a Deployment
// has made no progress for progressDeadlineSeconds.
const TimedOutReason = "ProgressDeadlineExceeded"

var (
	// ErrDeadlineExceeded: the Deployment's rollout stopped progressing.
	ErrDeadlineExceeded = errors.New("exceeded its progress deadline")
	// ErrDeleted: the Deployment was deleted while its rollout was watched.
	ErrDeleted = errors.New("was deleted")
	// ErrRevisionChanged: the Deployment is at another revision than the
	// one whose rollout was asked about.
	ErrRevisionChanged = errors.New("desired revision is different from the running revision")
)

// rewatchPause spaces the watches of Wait when the server ends them
// before any event.
const rewatchPause = 500 * time.Millisecond

// Status says how far the rollout of d has come, in kubectl's words
// ("Waiting for deployment "x" rollout to finish: 1 of 2 updated replicas
// are available...", "deployment "x" successfully rolled out"), and
// whether it is done. A non-zero revision must be d's current one. A
// rollout past its progress deadline is ErrDeadlineExceeded.
func Status(d *appsv1.Deployment, revision int64) (string, bool, error) {
	name := d.GetMetadata().GetName()
	if revision > 0 {
		cur, _ := strconv.ParseInt(d.GetMetadata().GetAnnotations()[RevisionAnnotation], 10, 64)
		if cur != revision {
			return "", false, fmt.Errorf("deployment %q: %w (want %d, running %d)", name, ErrRevisionChanged, revision, cur)
		}
	}
	st := d.GetStatus()
	if d.GetMetadata().GetGeneration() > st.GetObservedGeneration() {
		return "Waiting for deployment spec update to be observed...", false, nil
	}
	for _, c := range st.GetConditions() {
		if c.GetType() == "Progressing" && c.GetReason() == TimedOutReason {
			return "", false, fmt.Errorf("deployment %q %w", name, ErrDeadlineExceeded)
		}
	}
	want := int32(1)
	if d.GetSpec().Replicas != nil {
		want = d.GetSpec().GetReplicas()
	}
	switch {
	case st.GetUpdatedReplicas() < want:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...", name, st.GetUpdatedReplicas(), want), false, nil
	case st.GetReplicas() > st.GetUpdatedReplicas():
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", name, st.GetReplicas()-st.GetUpdatedReplicas()), false, nil
	case st.GetAvailableReplicas() < st.GetUpdatedReplicas():
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", name, st.GetAvailableReplicas(), st.GetUpdatedReplicas()), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", name), true, nil
}

// Wait watches the Deployment namespace/name until its rollout is done
// (see Status), writing each new status line to out, and returns nil
// then. It ends with ctx (give it a deadline for a timeout), with
// ErrDeleted when the Deployment goes, and with Status's errors. A watch
// the server ends is started again from a fresh read.
func Wait(ctx context.Context, cs *clientset.Set, namespace, name string, revision int64, out io.Writer) error {
	last := ""
	show := func(d *appsv1.Deployment) (bool, error) {
		msg, done, err := Status(d, revision)
		if err != nil {
			return false, err
		}
		if msg != last {
			last = msg
			if _, err := fmt.Fprintln(out, msg); err != nil {
				return false, err
			}
		}
		return done, nil
	}
	for {
		d, err := cs.Deployments().Get(ctx, &metav1.GetOptions{Namespace: namespace, Name: name})
		if err != nil {
			return fmt.Errorf("deployment %s: %w", name, err)
		}
		if done, err := show(d); done || err != nil {
			return err
		}
		w, err := cs.Deployments().Watch(ctx, &metav1.ListOptions{
			Namespace: namespace, FieldSelector: "metadata.name=" + name,
			ResourceVersion: d.GetMetadata().GetResourceVersion(),
		})
		if err != nil {
			return fmt.Errorf("watch deployment %s: %w", name, err)
		}
		for events := 0; ; events++ {
			ev, err := w.Recv()
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("deployment %s: %w", name, ctx.Err())
				}
				// The server ended the watch: read again and watch anew,
				// after a pause when it ended at once.
				if events == 0 {
					select {
					case <-ctx.Done():
						return fmt.Errorf("deployment %s: %w", name, ctx.Err())
					case <-time.After(rewatchPause):
					}
				}
				break
			}
			switch ev.GetType() {
			case "DELETED":
				return fmt.Errorf("deployment %q %w", name, ErrDeleted)
			case "ADDED", "MODIFIED":
				if done, err := show(ev.GetObject()); done || err != nil {
					return err
				}
			}
		}
	}
}
