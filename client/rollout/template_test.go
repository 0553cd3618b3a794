package rollout

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

func TestWithoutHashAndSameTemplate(t *testing.T) {
	withHash := &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "a", HashLabel: "abc"}}}
	plain := &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "a"}}}
	if got := WithoutHash(withHash); len(got.GetMetadata().GetLabels()) != 1 || withHash.Metadata.Labels[HashLabel] != "abc" {
		t.Fatalf("WithoutHash = %v (the original must keep its label: %v)", got, withHash)
	}
	if only := WithoutHash(&corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{HashLabel: "x"}}}); only.GetMetadata().Labels != nil {
		t.Fatalf("a template with only the hash label keeps labels %v, want nil", only.GetMetadata().Labels)
	}
	if !SameTemplate(withHash, plain) {
		t.Fatal("templates differing only by the hash label are not the same")
	}
	if SameTemplate(plain, &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "b"}}}) {
		t.Fatal("different labels are the same template")
	}
}

func TestParseRevision(t *testing.T) {
	for _, tc := range []struct {
		ann  map[string]string
		n    int64
		isOK bool
	}{
		{map[string]string{RevisionAnnotation: "7"}, 7, true},
		{nil, 0, false},
		{map[string]string{RevisionAnnotation: "x"}, 0, false},
	} {
		n, ok := ParseRevision(&metav1.ObjectMeta{Annotations: tc.ann})
		if n != tc.n || ok != tc.isOK {
			t.Errorf("ParseRevision(%v) = %d, %v; want %d, %v", tc.ann, n, ok, tc.n, tc.isOK)
		}
	}
}
