package validation

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tugboat-sh/tugboat/machinery/names"
	"google.golang.org/protobuf/types/known/structpb"
)

// path is a field path being built: "spec", "spec.containers[0]", "data[key]".
type path string

func (p path) child(names ...string) path {
	out := string(p)
	for _, n := range names {
		if out == "" {
			out = n
		} else {
			out += "." + n
		}
	}
	return path(out)
}

func (p path) index(i int) path { return path(string(p) + "[" + strconv.Itoa(i) + "]") }

func (p path) key(k string) path { return path(string(p) + "[" + k + "]") }

func required(p path, detail string) Error {
	return Error{Field: string(p), Type: Required, Detail: detail}
}

func invalid(p path, v any, detail string) Error {
	return Error{Field: string(p), Type: Invalid, Value: v, Detail: detail}
}

func notSupported(p path, v any, allowed ...string) Error {
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = strconv.Quote(a)
	}
	return Error{Field: string(p), Type: NotSupported, Value: v, Detail: "supported values: " + strings.Join(q, ", ")}
}

func duplicate(p path, v any) Error { return Error{Field: string(p), Type: Duplicate, Value: v} }

func forbidden(p path, detail string) Error {
	return Error{Field: string(p), Type: Forbidden, Detail: detail}
}

func notFound(p path, v any) Error { return Error{Field: string(p), Type: NotFound, Value: v} }

func tooLong(p path, max int) Error {
	return Error{Field: string(p), Type: TooLong, Detail: fmt.Sprintf("must have at most %d bytes", max)}
}

// oneOf reports v unless it is "" (the default) or one of allowed.
func oneOf(p path, v string, allowed ...string) List {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return List{notSupported(p, v, allowed...)}
}

// check turns the reasons a name check returns into errors on p.
func check(p path, v string, reasons []string) List {
	var errs List
	for _, r := range reasons {
		errs = append(errs, invalid(p, v, r))
	}
	return errs
}

func nonNegative(p path, v int64) List {
	if v < 0 {
		return List{invalid(p, v, "must be greater than or equal to 0")}
	}
	return nil
}

func optNonNegative(p path, v *int32) List {
	if v == nil {
		return nil
	}
	return nonNegative(p, int64(*v))
}

func optPositive(p path, v *int32) List {
	if v != nil && *v <= 0 {
		return List{invalid(p, *v, "must be greater than 0")}
	}
	return nil
}

const portRange = "must be between 1 and 65535, inclusive"

func portNumber(p path, port int32) List {
	if port < 1 || port > 65535 {
		return List{invalid(p, port, portRange)}
	}
	return nil
}

// intOrString reads an int-or-string value. set is false for a missing or
// null value; ok is false for a value of another type or a fractional number.
func intOrString(v *structpb.Value) (n int64, s string, isInt, set, ok bool) {
	switch k := v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return 0, "", false, false, true
	case *structpb.Value_NumberValue:
		f := k.NumberValue
		if f != math.Trunc(f) || math.IsInf(f, 0) || f > math.MaxInt32 || f < math.MinInt32 {
			return 0, "", true, true, false
		}
		return int64(f), "", true, true, true
	case *structpb.Value_StringValue:
		return 0, k.StringValue, false, true, true
	default:
		return 0, "", false, true, false
	}
}

// valueOf is the Go value of an int-or-string, for error messages.
func valueOf(v *structpb.Value) any {
	if v == nil {
		return nil
	}
	return v.AsInterface()
}

// portNumOrName checks a port given as a number 1-65535 or an IANA port name.
func portNumOrName(p path, v *structpb.Value) List {
	n, s, isInt, set, ok := intOrString(v)
	switch {
	case !set:
		return List{required(p, "")}
	case !ok:
		return List{invalid(p, valueOf(v), "must be an integer or a string")}
	case isInt:
		if n < 1 || n > 65535 {
			return List{invalid(p, n, portRange)}
		}
		return nil
	default:
		return check(p, s, names.PortName(s))
	}
}

// sortedKeys appends m's keys to dst in order and returns it; with a
// caller's array as dst, small maps are walked without allocating.
func sortedKeys[V any](dst []string, m map[string]V) []string {
	for k := range m {
		dst = append(dst, k)
	}
	slices.Sort(dst)
	return dst
}
