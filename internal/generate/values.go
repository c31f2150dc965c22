// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"fmt"
	"slices"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/inputfile"
)

// values merges the -f files (in order) and then the --set arguments (in
// order, each onto what came before), as helm install does, and returns
// the merged tree, the notes on what was ignored, and every problem.
func values(a Args) (map[string]any, []string, []badinput.FieldError) {
	var notes []string
	var probs []badinput.FieldError
	root := map[string]any{}
	note := func(n string) {
		if !slices.Contains(notes, n) {
			notes = append(notes, n)
		}
	}
	for _, f := range a.Files {
		m, err := readValues(f)
		if err != nil {
			probs = append(probs, badinput.FieldError{Path: "-f " + shown(f), Message: err.Error()})
			continue
		}
		// A parent chart's values (autox: {groups: ...}) count as groups.
		var parents []string
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok && k != "groups" {
				if _, ok := sub["groups"]; ok {
					parents = append(parents, k)
				}
			}
		}
		slices.Sort(parents)
		for _, k := range parents {
			note(prefixNote(k + "."))
			sub := m[k].(map[string]any)
			delete(m, k)
			m = mergeMaps(m, sub)
		}
		root = mergeMaps(root, m)
	}
	for _, s := range a.Sets {
		as, err := parseSet(s)
		if err != nil {
			probs = append(probs, badinput.FieldError{Path: "--set " + shown(s), Message: err.Error()})
			continue
		}
		for _, as := range as {
			if i := groupsAt(as.path); i > 0 {
				note(prefixNote(pathString(as.path[:i]) + "."))
				as.path = as.path[i:]
			}
			if err := apply(root, as); err != nil {
				probs = append(probs, badinput.FieldError{Path: "--set " + shown(s), Message: err.Error()})
				break
			}
		}
	}
	return pruneNil(root).(map[string]any), notes, probs
}

func prefixNote(prefix string) string {
	return fmt.Sprintf("ignoring %q before groups (the values of a parent chart); autox reads groups.<group>... as they are", prefix)
}

// groupsAt is the index of the first key "groups" of a path that does not
// start with it: autox.groups.x... is a parent chart's way to say groups.x...
func groupsAt(path []segment) int {
	if len(path) == 0 || (!path[0].isIndex && path[0].key == "groups") {
		return 0
	}
	for i, s := range path {
		if !s.isIndex && s.key == "groups" {
			return i
		}
	}
	return 0
}

// readValues reads a values file as helm install -f does: one YAML map.
func readValues(file string) (map[string]any, error) {
	b, err := inputfile.Read(file, inputfile.MaxYAML)
	if err != nil {
		return nil, fmt.Errorf("cannot read the values file: %v; %s", err, inputfile.FixFor(err, "pass an existing file"))
	}
	var v any
	if err := experiment.UnmarshalYAML(b, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	v, err = normalize(v)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is not a map; write the values as keys, e.g. groups: {httpbin: {trigger: ...}}", describeValue(v))
	}
	return m, nil
}

// normalize makes every map a map[string]any (YAML allows other keys).
func normalize(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			v[k] = n
		}
		return v, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = n
		}
		return out, nil
	case []any:
		for i, e := range v {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
		return v, nil
	case int:
		return int64(v), nil
	}
	return v, nil
}

// mergeMaps is b over a, as Helm merges values files: maps merge key by
// key, anything else in b replaces what a has.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// pruneNil drops map keys set to null: in Helm, null removes a value.
func pruneNil(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = pruneNil(e)
		}
	case []any:
		for i, e := range v {
			v[i] = pruneNil(e)
		}
	}
	return v
}
