// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/autox-tekton/autox/internal/names"
)

// checkShape walks a YAML node against the Go type it will be decoded into
// and reports, by path, every unknown key and every value of the wrong
// kind. yaml's own errors name a line and a Go type; ours name the field
// and the fix.
func checkShape(n *yaml.Node, t reflect.Type, path string, p *problems) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value is the same as a missing one
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		v := reflect.New(t).Interface().(yaml.Unmarshaler)
		if err := v.UnmarshalYAML(n); err != nil {
			p.add(path, err.Error())
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.add(path, fmt.Sprintf("%s is not a mapping; write %s as keys under it", describe(n), path))
			return
		}
		fields := yamlFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			if twice(n.Content[i], seen, path, p) {
				continue
			}
			ft, ok := fields[key]
			if !ok {
				p.add(join(path, key), "unknown key"+suggest(key, fields))
				continue
			}
			checkShape(val, ft, join(path, key), p)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.add(path, fmt.Sprintf("%s is not a mapping; write name: value pairs under it", describe(n)))
			return
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if twice(n.Content[i], seen, path, p) {
				continue
			}
			checkShape(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), p)
		}
	case reflect.Interface:
		// Free-form values (gRPC call data) are checked against the
		// message type once it is known; here only that they decode:
		// plain keys, each once.
		checkFree(n, path, p)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.add(path, fmt.Sprintf("%s is not a list; write [a, b] or one '- item' per line", describe(n)))
			return
		}
		for i, item := range n.Content {
			checkShape(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), p)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			p.add(path, fmt.Sprintf("%s is not a single value; write %s", describe(n), kindHint(t)))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			p.add(path, fmt.Sprintf("%q is not %s", n.Value, kindHint(t)))
		}
	}
}

// twice reports a mapping key that is not a plain value, or one given a
// second time (the YAML decoder refuses both); seen holds each key's
// first line.
func twice(key *yaml.Node, seen map[string]int, path string, p *problems) bool {
	if key.Kind != yaml.ScalarNode {
		p.add(path, fmt.Sprintf("line %d has a key that is %s; write plain name: value keys", key.Line, describe(key)))
		return true
	}
	if first, ok := seen[key.Value]; ok {
		p.add(join(path, key.Value), fmt.Sprintf("is given twice (lines %d and %d); keep one", first, key.Line))
		return true
	}
	seen[key.Value] = key.Line
	return false
}

// checkFree checks a free-form value's mappings, however deep: each key a
// plain value, given once. (An alias is checked where its anchor is.)
func checkFree(n *yaml.Node, path string, p *problems) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			checkFree(c, fmt.Sprintf("%s[%d]", path, i), p)
		}
	case yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if twice(n.Content[i], seen, path, p) {
				continue
			}
			checkFree(n.Content[i+1], join(path, n.Content[i].Value), p)
		}
	}
}

// yamlFields maps each yaml key of struct t (inline fields included) to
// its type.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func kindHint(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "a whole number; write e.g. 100"
	case reflect.Float32, reflect.Float64:
		return "a number; write e.g. 50 or 99.9"
	case reflect.Bool:
		return "true or false"
	default:
		return "a string; quote it"
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

// suggest names the closest known key, for typos like numRequest.
func suggest(key string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	lower := map[string]string{}
	for k := range fields {
		known = append(known, strings.ToLower(k))
		lower[strings.ToLower(k)] = k
	}
	if best, ok := names.Closest(strings.ToLower(key), known, 3); ok {
		return fmt.Sprintf("; did you mean %q?", lower[best])
	}
	sort.Strings(known)
	out := make([]string, len(known))
	for i, k := range known {
		out[i] = lower[k]
	}
	return "; known keys are " + strings.Join(out, ", ")
}
