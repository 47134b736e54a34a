package main

import (
	"encoding"
	"fmt"
	"iter"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/camvault/camvault/internal/settings"
)

// normalize prepares the parsed file n for strict decoding into a value of type t: it walks the
// file and the Go type together and rewrites in place each value whose field is a
// time.Duration (read with settings.ParseDuration: "30d", "1d12h") into Go's duration syntax,
// and each value of a field tagged unit:"bytes" (read with settings.ParseSize: "64KiB") into
// an integer, so that the package Config types need no YAML code of their own. A value of an
// encoding.TextUnmarshaler field (storage.SyncPolicy) is checked here: a bad one is taken out
// (its default stays) and reported in invalid, a *settings.FieldError at its position, to be
// joined with the validation errors. Keys that match no field are left for the decoder to
// refuse. The first bad span or size is returned as a *configError at its position; key is
// the path of n in the file.
func normalize(n ast.Node, t reflect.Type, key []string) (invalid []error, err error) {
	w := normalizer{}
	_, err = w.value(n, t, key, false)
	return w.invalid, err
}

// normalizer walks a file for normalize, collecting the invalid enumerated values.
type normalizer struct {
	invalid []error
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	nodeUnmarshalerType = reflect.TypeFor[yaml.NodeUnmarshaler]()
)

// normalizeValue normalizes n for a value of type t and returns the node to decode in its place.
func (w *normalizer) value(n ast.Node, t reflect.Type, key []string, bytes bool) (ast.Node, error) {
	if n == nil || n.Type() == ast.NullType {
		return n, nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case reflect.PointerTo(t).Implements(nodeUnmarshalerType):
		return n, nil // decodes itself (FreeSpace, scheduleConfig)
	case t == durationType:
		return durationNode(n)
	case bytes:
		return sizeNode(n)
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		if err := checkText(n, t, key); err != nil {
			w.invalid = append(w.invalid, err)
			return ast.Null(token.New("null", "null", n.GetToken().Position)), nil
		}
		return n, nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return n, w.fields(n, structFields(t), key)
	case reflect.Map:
		return n, w.mapping(n, key, func(string) (reflect.Type, bool) { return t.Elem(), false })
	case reflect.Slice:
		if seq, ok := n.(*ast.SequenceNode); ok {
			for i, v := range seq.Values {
				nv, err := w.value(v, t.Elem(), append(key[:len(key):len(key)], strconv.Itoa(i)), false)
				if err != nil {
					return n, err
				}
				seq.Values[i] = nv
			}
		}
	}
	return n, nil
}

// normalizeFields normalizes the values of a mapping decoded into a struct with fields.
func (w *normalizer) fields(n ast.Node, fields map[string]reflect.StructField, key []string) error {
	return w.mapping(n, key, func(k string) (reflect.Type, bool) {
		f, ok := fields[k]
		if !ok {
			return nil, false
		}
		return f.Type, f.Tag.Get("unit") == "bytes"
	})
}

// normalizeMapping normalizes each value of mapping n whose key field gives a type for.
func (w *normalizer) mapping(n ast.Node, key []string, field func(k string) (reflect.Type, bool)) error {
	for _, mv := range mappingEntries(n) {
		if mv.Key == nil || mv.Key.GetToken() == nil {
			continue
		}
		k := mv.Key.GetToken().Value
		t, bytes := field(k)
		if t == nil {
			continue
		}
		v, err := w.value(mv.Value, t, append(key[:len(key):len(key)], k), bytes)
		if err != nil {
			return err
		}
		mv.Value = v
	}
	return nil
}

// structFields maps the yaml keys of t's fields to the fields, with the fields of inlined
// structs (yaml:",inline") as their own; fields tagged yaml:"-" are left out.
func structFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for f := range fieldsOf(t) {
		name, _ := yamlKey(f)
		out[name] = f
	}
	return out
}

// fieldsOf yields the exported fields of struct t that the file may set, inlined structs
// flattened.
func fieldsOf(t reflect.Type) iter.Seq[reflect.StructField] {
	return func(yield func(reflect.StructField) bool) {
		for f := range t.Fields() {
			name, inline := yamlKey(f)
			switch {
			case !f.IsExported() || name == "-":
			case inline:
				for g := range fieldsOf(f.Type) {
					if !yield(g) {
						return
					}
				}
			default:
				if !yield(f) {
					return
				}
			}
		}
	}
}

// yamlKey returns the key of field f as goccy/go-yaml names it, and whether it is inlined
// (an embedded struct without a name in its tag is inlined too).
func yamlKey(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(","+opts+",", ",inline,") || (f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct) {
		return "", true
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

// durationNode reads a span and returns it as a string node in Go's syntax.
func durationNode(n ast.Node) (ast.Node, error) {
	s, err := scalarText(n)
	if err != nil {
		return n, positioned(n, err)
	}
	d, err := settings.ParseDuration(s)
	if err != nil {
		return n, positioned(n, err)
	}
	return ast.String(token.String(d.String(), s, n.GetToken().Position)), nil
}

// sizeNode reads a byte count (a YAML integer too, so that -1 is refused as before) and
// returns it as an integer node.
func sizeNode(n ast.Node) (ast.Node, error) {
	s, err := scalarText(n)
	if err != nil {
		return n, positioned(n, err)
	}
	v, err := settings.ParseSize(s)
	if err != nil {
		return n, positioned(n, err)
	}
	text := strconv.FormatInt(v, 10)
	return ast.Integer(token.New(text, s, n.GetToken().Position)), nil
}

// checkText runs the UnmarshalText of a scratch value of type t on n, so that a bad value is
// reported with its key.
func checkText(n ast.Node, t reflect.Type, key []string) error {
	s, err := scalarText(n)
	if err == nil {
		err = reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}
	if err != nil {
		return positioned(n, &settings.FieldError{Path: key, Err: err})
	}
	return nil
}

// scalarText returns the text of a plain or quoted scalar (a YAML integer or float is read as
// its source text), and an error for mappings, sequences and tagged values.
func scalarText(n ast.Node) (string, error) {
	switch n.Type() {
	case ast.StringType, ast.IntegerType, ast.FloatType:
		return n.GetToken().Value, nil
	default:
		return "", fmt.Errorf("want a scalar value, got %s", strings.ToLower(n.Type().String()))
	}
}

// positioned attaches the position of n to a non-nil err.
func positioned(n ast.Node, err error) error {
	if err == nil {
		return nil
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return err
	}
	return &configError{line: tk.Position.Line, column: tk.Position.Column, err: err}
}
