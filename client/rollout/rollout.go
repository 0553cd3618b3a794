// Package rollout is the client side of Deployment rollouts, what
// `rollout history|undo|pause|resume|restart` need: the revisions of a
// Deployment are its ReplicaSets' deployment.kubernetes.io/revision
// annotations; undoing writes an old ReplicaSet's pod template back into
// the Deployment, and the Deployment controller makes that ReplicaSet the
// next revision.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/retry"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/selector"
	"google.golang.org/protobuf/proto"
)

// Annotations and labels of Deployment rollouts (Kubernetes' own).
const (
	RevisionAnnotation        = "deployment.kubernetes.io/revision"
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	ChangeCauseAnnotation     = "kubernetes.io/change-cause"
	RestartedAtAnnotation     = "kubectl.kubernetes.io/restartedAt"
	HashLabel                 = "pod-template-hash"
)

var (
	// ErrRevisionNotFound: undo to a revision the Deployment does not have.
	ErrRevisionNotFound = errors.New("revision not found")
	// ErrPaused: a paused Deployment is not rolled back; resume it first.
	ErrPaused = errors.New("cannot roll back a paused deployment; resume it first")
	// ErrAlreadyPaused: Pause of a paused Deployment.
	ErrAlreadyPaused = errors.New("is already paused")
	// ErrNotPaused: Resume of a Deployment that is not paused.
	ErrNotPaused = errors.New("is not paused")
	// ErrRestartPaused: a paused Deployment does not roll, so it is not
	// restarted; resume it first.
	ErrRestartPaused = errors.New("is paused and cannot be restarted; resume it first")
)

// Revision is one entry of a Deployment's history.
type Revision struct {
	Number      int64
	ReplicaSet  string
	ChangeCause string
	// Template is the ReplicaSet's pod template without pod-template-hash.
	Template *corev1.PodTemplateSpec
}

// History returns the revisions of the Deployment namespace/name, oldest
// first.
func History(ctx context.Context, cs *clientset.Set, namespace, name string) ([]Revision, error) {
	d, err := cs.Deployments().Get(ctx, &metav1.GetOptions{Namespace: namespace, Name: name})
	if err != nil {
		return nil, fmt.Errorf("deployment %s: %w", name, err)
	}
	return history(ctx, cs, d)
}

func history(ctx context.Context, cs *clientset.Set, d *appsv1.Deployment) ([]Revision, error) {
	sel, err := selector.ToString(d.GetSpec().GetSelector())
	if err != nil {
		return nil, fmt.Errorf("deployment %s: selector: %w", d.GetMetadata().GetName(), err)
	}
	list, err := cs.ReplicaSets().List(ctx, &metav1.ListOptions{Namespace: d.GetMetadata().GetNamespace(), LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("deployment %s: list replicasets: %w", d.GetMetadata().GetName(), err)
	}
	var out []Revision
	for _, rs := range list.GetItems() {
		if !ownedBy(rs.GetMetadata(), d.GetMetadata().GetUid()) {
			continue
		}
		n, ok := ParseRevision(rs.GetMetadata())
		if !ok {
			continue
		}
		out = append(out, Revision{
			Number: n, ReplicaSet: rs.GetMetadata().GetName(),
			ChangeCause: rs.GetMetadata().GetAnnotations()[ChangeCauseAnnotation],
			Template:    WithoutHash(rs.GetSpec().GetTemplate()),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

func ownedBy(m *metav1.ObjectMeta, uid string) bool {
	for _, r := range m.GetOwnerReferences() {
		if r.GetController() && r.GetUid() == uid {
			return true
		}
	}
	return false
}

// UndoResult says what Undo did.
type UndoResult struct {
	// Revision is the revision whose template the Deployment now has.
	Revision int64
	// Skipped: the Deployment's template already was that revision's.
	Skipped bool
}

// Undo rolls the Deployment back to toRevision, or to the revision before
// the current one when toRevision is 0. A revision that does not exist is
// ErrRevisionNotFound and a paused Deployment ErrPaused; nothing changes
// then. The update is compare-and-swap on the Deployment read, and is
// retried on a conflict (the controller writes the Deployment too).
func Undo(ctx context.Context, cs *clientset.Set, namespace, name string, toRevision int64) (UndoResult, error) {
	var res UndoResult
	err := retry.OnConflict(func() error {
		var err error
		res, err = undo(ctx, cs, namespace, name, toRevision)
		return err
	})
	return res, err
}

func undo(ctx context.Context, cs *clientset.Set, namespace, name string, toRevision int64) (UndoResult, error) {
	if toRevision < 0 {
		return UndoResult{}, fmt.Errorf("deployment %s: revision %d: %w", name, toRevision, ErrRevisionNotFound)
	}
	d, err := cs.Deployments().Get(ctx, &metav1.GetOptions{Namespace: namespace, Name: name})
	if err != nil {
		return UndoResult{}, fmt.Errorf("deployment %s: %w", name, err)
	}
	if d.GetSpec().GetPaused() {
		return UndoResult{}, fmt.Errorf("deployment %s: %w", name, ErrPaused)
	}
	revs, err := history(ctx, cs, d)
	if err != nil {
		return UndoResult{}, err
	}
	target, err := pick(revs, d, toRevision)
	if err != nil {
		return UndoResult{}, fmt.Errorf("deployment %s: %w", name, err)
	}
	if proto.Equal(WithoutHash(d.GetSpec().GetTemplate()), target.Template) {
		return UndoResult{Revision: target.Number, Skipped: true}, nil
	}
	upd := proto.Clone(d).(*appsv1.Deployment)
	upd.Spec.Template = target.Template
	if _, err := cs.Deployments().Update(ctx, upd); err != nil {
		return UndoResult{}, fmt.Errorf("deployment %s: roll back to revision %d: %w", name, target.Number, err)
	}
	return UndoResult{Revision: target.Number}, nil
}

// pick finds revision want, or the one before the current revision.
func pick(revs []Revision, d *appsv1.Deployment, want int64) (Revision, error) {
	if want > 0 {
		for _, r := range revs {
			if r.Number == want {
				return r, nil
			}
		}
		return Revision{}, fmt.Errorf("revision %d: %w", want, ErrRevisionNotFound)
	}
	cur, _ := ParseRevision(d.GetMetadata())
	var prev *Revision
	for i := range revs {
		if revs[i].Number < cur || cur == 0 && i < len(revs)-1 {
			prev = &revs[i]
		}
	}
	if prev == nil {
		return Revision{}, fmt.Errorf("no revision before the current one: %w", ErrRevisionNotFound)
	}
	return *prev, nil
}

// Pause stops the Deployment's rollouts until Resume; a paused one is
// ErrAlreadyPaused.
func Pause(ctx context.Context, cs *clientset.Set, namespace, name string) error {
	return setPaused(ctx, cs, namespace, name, true)
}

// Resume lets a paused Deployment roll out again; one that is not paused
// is ErrNotPaused.
func Resume(ctx context.Context, cs *clientset.Set, namespace, name string) error {
	return setPaused(ctx, cs, namespace, name, false)
}

func setPaused(ctx context.Context, cs *clientset.Set, namespace, name string, paused bool) error {
	return mutate(ctx, cs, namespace, name, func(d *appsv1.Deployment) error {
		switch {
		case paused && d.Spec.Paused:
			return ErrAlreadyPaused
		case !paused && !d.Spec.Paused:
			return ErrNotPaused
		}
		d.Spec.Paused = paused
		return nil
	})
}

// Restart rolls every pod of the Deployment by stamping its template
// with the time (kubectl.kubernetes.io/restartedAt); a paused one is
// ErrRestartPaused.
func Restart(ctx context.Context, cs *clientset.Set, namespace, name string, now time.Time) error {
	return mutate(ctx, cs, namespace, name, func(d *appsv1.Deployment) error {
		if d.Spec.Paused {
			return ErrRestartPaused
		}
		if d.Spec.Template.Metadata == nil {
			d.Spec.Template.Metadata = &metav1.ObjectMeta{}
		}
		if d.Spec.Template.Metadata.Annotations == nil {
			d.Spec.Template.Metadata.Annotations = map[string]string{}
		}
		d.Spec.Template.Metadata.Annotations[RestartedAtAnnotation] = now.UTC().Format(time.RFC3339)
		return nil
	})
}

func mutate(ctx context.Context, cs *clientset.Set, namespace, name string, fn func(*appsv1.Deployment) error) error {
	// The Deployment controller writes it too: a conflict is retried.
	return retry.OnConflict(func() error { return mutateOnce(ctx, cs, namespace, name, fn) })
}

func mutateOnce(ctx context.Context, cs *clientset.Set, namespace, name string, fn func(*appsv1.Deployment) error) error {
	d, err := cs.Deployments().Get(ctx, &metav1.GetOptions{Namespace: namespace, Name: name})
	if err != nil {
		return fmt.Errorf("deployment %s: %w", name, err)
	}
	upd := proto.Clone(d).(*appsv1.Deployment)
	if upd.Spec == nil || upd.Spec.Template == nil {
		return fmt.Errorf("deployment %s has no pod template", name)
	}
	if err := fn(upd); err != nil {
		return fmt.Errorf("deployment %q %w", name, err)
	}
	if _, err := cs.Deployments().Update(ctx, upd); err != nil {
		return fmt.Errorf("deployment %s: %w", name, err)
	}
	return nil
}
