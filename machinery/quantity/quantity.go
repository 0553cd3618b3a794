// Package quantity parses resource quantities ("500m", "64Mi", "1.5") with
// Kubernetes' own rules.
package quantity

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Parse parses a quantity string.
func Parse(s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return q, fmt.Errorf("quantity %q: %w", s, err)
	}
	return q, nil
}

// MilliValue parses s and returns it in thousandths (cpu "500m" -> 500).
func MilliValue(s string) (int64, error) {
	q, err := Parse(s)
	if err != nil {
		return 0, err
	}
	return q.MilliValue(), nil
}

// Value parses s and returns it rounded up to a whole unit (memory "64Mi" -> 67108864).
func Value(s string) (int64, error) {
	q, err := Parse(s)
	if err != nil {
		return 0, err
	}
	return q.Value(), nil
}
