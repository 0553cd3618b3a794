package controller

import "testing"

func TestExpectations(t *testing.T) {
	e := NewExpectations()
	if !e.Satisfied("a") {
		t.Fatal("a key with no expectations is not satisfied")
	}
	e.Expect("a", 2, nil)
	e.CreationObserved("a")
	if e.Satisfied("a") {
		t.Fatal("satisfied with one of two creates seen")
	}
	e.CreationObserved("a")
	if !e.Satisfied("a") {
		t.Fatal("not satisfied with both creates seen")
	}

	e.Expect("a", 0, []string{"u1", "u2"})
	// A graceful delete is seen twice: marked, then gone.
	e.DeletionObserved("a", "u1")
	e.DeletionObserved("a", "u1")
	if e.Satisfied("a") {
		t.Fatal("one pod's delete seen twice satisfied two expected deletes")
	}
	e.DeletionObserved("a", "u2")
	if !e.Satisfied("a") {
		t.Fatal("not satisfied with both deletes seen")
	}
	e.Expect("b", 1, nil)
	e.Forget("b")
	if !e.Satisfied("b") {
		t.Fatal("forgotten expectations still wait")
	}
}
