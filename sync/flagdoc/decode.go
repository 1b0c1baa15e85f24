package flagdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one bad field: its path in the document ("rules[0].clauses[1].op") and why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) String() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Error lists every bad field of a refused document or change. Nothing of it was applied.
type Error struct {
	Fields []FieldError
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	return strings.Join(parts, "; ")
}

// Errorf returns an *Error for one field.
func Errorf(field, format string, a ...any) *Error {
	return &Error{Fields: []FieldError{{Field: field, Message: fmt.Sprintf(format, a...)}}}
}

// Decode reads one JSON document into v (a pointer to a document type) strictly: data must be
// exactly one JSON value; an object field v's type does not know, or a value of the wrong JSON
// type, is an *Error naming its path (prefix, then the path inside the document). null counts
// as absent. Semantic checks are Validate's.
func Decode(data []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	whole := prefix
	if whole == "" {
		whole = "body"
	}
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return Errorf(whole, "malformed JSON: %s", syntaxMessage(err))
	}
	if _, err := dec.Token(); err == nil {
		return Errorf(whole, "malformed JSON: more than one value")
	}
	if err := check(generic, reflect.TypeOf(v).Elem(), prefix); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		// check accepted the shape, so only range errors remain (an index beyond int).
		return Errorf(prefix, "%v", err)
	}
	return nil
}

func syntaxMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	if errors.Is(err, io.EOF) {
		return "empty body"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

var rawMessage = reflect.TypeOf(json.RawMessage(nil))

// check walks a generically decoded value against a document type and reports the first
// unknown field or type mismatch with its full path.
func check(v any, t reflect.Type, path string) error {
	if v == nil {
		return nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessage {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return Errorf(path, "must be an object, not %s", kindOf(v))
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fieldType(t, k)
			if !ok {
				return Errorf(join(path, k), "unknown field")
			}
			if err := check(obj[k], ft, join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return Errorf(path, "must be an array, not %s", kindOf(v))
		}
		for i, e := range list {
			if err := check(e, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return Errorf(path, "must be a string, not %s", kindOf(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return Errorf(path, "must be a boolean, not %s", kindOf(v))
		}
	case reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			return Errorf(path, "must be an integer, not %s", kindOf(v))
		}
		if _, err := strconv.ParseInt(string(n), 10, 32); err != nil {
			return Errorf(path, "must be an integer that fits in 32 bits, not %s", n)
		}
	case reflect.Uint32:
		n, ok := v.(json.Number)
		if !ok {
			return Errorf(path, "must be an integer, not %s", kindOf(v))
		}
		if _, err := strconv.ParseUint(string(n), 10, 32); err != nil {
			return Errorf(path, "must be an integer from 0 to 4294967295, not %s", n)
		}
	case reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return Errorf(path, "must be a number, not %s", kindOf(v))
		}
	}
	return nil
}

func fieldType(t reflect.Type, name string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name {
			return f.Type, true
		}
	}
	return nil, false
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return "null"
}
