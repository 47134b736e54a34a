package main

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// schemaField is one key of the file schema, found by walking the Go types as the decoder does.
type schemaField struct {
	key   string // dotted path in the file: "rtsp.max_body"
	owner string // the Go field that holds it: "base.Limits.MaxBody"
	typ   reflect.Type
}

// walkSchema returns every key of the schema under prefix for struct type t: each exported
// field the file may set, with the yaml keys the decoder uses (yamlKey: inlined structs
// flattened, yaml:"-" left out), recursing into nested sections. Maps, sequences and pointers
// (cameras, users, anonymous) are leaves: their entries are the operator's, not the schema's.
// A field without an explicit yaml tag is reported in untagged.
func walkSchema(t reflect.Type, prefix string) (fields []schemaField, untagged []string) {
	for f := range t.Fields() {
		name, inline := yamlKey(f)
		owner := t.String() + "." + f.Name
		switch {
		case !f.IsExported() || name == "-":
			continue
		case f.Tag.Get("yaml") == "":
			untagged = append(untagged, owner)
		}
		if inline {
			sub, un := walkSchema(f.Type, prefix)
			fields, untagged = append(fields, sub...), append(untagged, un...)
			continue
		}
		if f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(nodeUnmarshalerType) &&
			!reflect.PointerTo(f.Type).Implements(textUnmarshalerType) {
			sub, un := walkSchema(f.Type, prefix+name+".")
			fields, untagged = append(fields, sub...), append(untagged, un...)
			continue
		}
		fields = append(fields, schemaField{key: prefix + name, owner: owner, typ: f.Type})
	}
	return fields, untagged
}

// documentedKeys returns the dotted keys that configs/camvault.yaml sets, down to the leaves
// of its nested mappings.
func documentedKeys(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(documentedConfig)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(prefix+k+".", sub)
				continue
			}
			keys = append(keys, prefix+k)
		}
	}
	walk("", doc)
	slices.Sort(keys)
	return keys
}

// TestEverySettingIsDocumented is the checklist of a new setting. Adding one touches only the
// package and configs/camvault.yaml:
//
//  1. the field in the package's Config, with its doc comment ("Defaults to ..."), a yaml tag
//     naming its key (unit:"bytes" for a byte count), its default in DefaultConfig and its
//     range in Validate (package internal/settings states the contract);
//  2. a line in configs/camvault.yaml with the default as value and a comment giving the type,
//     the range and "default X".
//
// This test names what is missing: a field without a yaml tag, a key the file does not
// document, a documented key no field reads. TestDocumentedConfigIsDefault then checks that
// the file's values are exactly the package defaults.
func TestEverySettingIsDocumented(t *testing.T) {
	t.Parallel()
	fields, untagged := walkSchema(reflect.TypeFor[fileConfig](), "")
	for _, u := range untagged {
		t.Errorf("%s has no yaml tag: tag it with its key in the file, or yaml:\"-\" when code sets it", u)
	}
	documented := documentedKeys(t)
	schema := map[string]bool{}
	for _, f := range fields {
		schema[f.key] = true
		if !slices.Contains(documented, f.key) {
			t.Errorf("%s (%s, %s) is not in %s: add a line \"%s: <its default>  # <type, range>; default <its default>. <what it does>\"",
				f.key, f.owner, f.typ, documentedConfig, f.key[strings.LastIndexByte(f.key, '.')+1:])
		}
	}
	for _, k := range documented {
		if !schema[k] {
			t.Errorf("%s documents %s, which no Config field reads: remove it, or add the field with yaml:%q", documentedConfig, k, k[strings.LastIndexByte(k, '.')+1:])
		}
	}
	if len(fields) < 80 {
		t.Errorf("found only %d settings; did walkSchema stop descending into the package configs?", len(fields))
	}
}

// TestWalkSchemaSeesPackageFields: the walk reaches into the package configs, inlined ones
// included, and names the Go field behind each key.
func TestWalkSchemaSeesPackageFields(t *testing.T) {
	t.Parallel()
	fields, _ := walkSchema(reflect.TypeFor[fileConfig](), "")
	want := map[string]string{
		"rtsp.max_body":              "base.Limits.MaxBody",
		"rtsp.session_timeout":       "rtsp.Config.SessionTimeout",
		"pull.dial_timeout":          "rtsp.ClientConfig.DialTimeout",
		"ingest.max_sdp_line":        "media.SDPLimits.MaxAttrBytes",
		"auth.realm":                 "auth.ServerConfig.Realm",
		"auth.failure_threshold":     "auth.LimiterConfig.Threshold",
		"recorder.max_camera_buffer": "recorder.Config.MaxRecordingBuffer",
		"storage.sync":               "storage.Config.Sync",
	}
	got := map[string]string{}
	for _, f := range fields {
		got[f.key] = f.owner
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s is held by %q, want %q", k, got[k], w)
		}
	}
}
