package httpapi

import (
	"bytes"
	"encoding/json"

	"github.com/danielgtaylor/huma/v2"
	"github.com/taskwire/taskwire"
)

// nullable is a JSON body field that can be absent, null or a value; the
// difference matters for partial updates ("assignee_id": null unassigns).
type nullable[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// MarshalJSON implements json.Marshaler (used to hash idempotent bodies).
func (n nullable[T]) MarshalJSON() ([]byte, error) {
	if !n.Set || n.Null {
		return []byte("null"), nil
	}
	return json.Marshal(n.Value)
}

// IsZero makes an absent field disappear under omitzero.
func (n nullable[T]) IsZero() bool { return !n.Set }

// option converts to the domain's Optional of a pointer.
func (n nullable[T]) option() taskwire.Optional[*T] {
	if !n.Set {
		return taskwire.Optional[*T]{}
	}
	if n.Null {
		return taskwire.Some[*T](nil)
	}
	v := n.Value
	return taskwire.Some(&v)
}

// ptr returns nil for absent or null.
func (n nullable[T]) ptr() *T {
	if !n.Set || n.Null {
		return nil
	}
	v := n.Value
	return &v
}

type (
	nullableString = nullable[string]
	nullableInt    = nullable[int64]
)

// Schema implements huma.SchemaProvider: the value's type or null.
func (n nullable[T]) Schema(r huma.Registry) *huma.Schema {
	var zero T
	s := *huma.SchemaFromType(r, reflectType(zero))
	s.Nullable = true
	return &s
}

// nonNull is an optional body field that must not be null when sent
// (PUT's title and status). huma does not reject null for optional
// fields, so the handler does, with FastAPI's message.
type nonNull[T any] struct{ nullable[T] }

// Schema implements huma.SchemaProvider: the value's type, not nullable.
func (n nonNull[T]) Schema(r huma.Registry) *huma.Schema {
	var zero T
	return huma.SchemaFromType(r, reflectType(zero))
}

// check returns a 422 naming field if the value was sent as null.
func (n nonNull[T]) check(field, msg, typ string) error {
	if n.Null {
		return invalid(issue{Loc: []any{"body", field}, Msg: msg, Type: typ})
	}
	return nil
}
