// Package validation checks API objects before they are stored: names,
// labels, quantities, ports, required fields and the rules of each kind. Every
// error names the field path, as Kubernetes does ("spec.containers[0].image").
package validation

import (
	"fmt"
	"strings"
)

// Error types, worded as Kubernetes words them.
const (
	Required     = "Required value"
	Invalid      = "Invalid value"
	NotSupported = "Unsupported value"
	Duplicate    = "Duplicate value"
	TooLong      = "Too long"
	Forbidden    = "Forbidden"
	NotFound     = "Not found"
)

// Error is one invalid field.
type Error struct {
	// Field is the path, e.g. "spec.containers[0].image".
	Field string
	// Type is one of the constants above.
	Type string
	// Value is the offending value, if any; it is quoted in the message.
	Value any
	// Detail says what is wrong or what is allowed.
	Detail string
}

func (e Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Field)
	b.WriteString(": ")
	b.WriteString(e.Type)
	if e.Value != nil && e.Type != Required && e.Type != Forbidden && e.Type != TooLong {
		fmt.Fprintf(&b, ": %#v", e.Value)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// List is the errors found in one object.
type List []Error

func (l List) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	if len(msgs) == 1 {
		return msgs[0]
	}
	return "[" + strings.Join(msgs, ", ") + "]"
}
