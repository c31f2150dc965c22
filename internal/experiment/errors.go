// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import "github.com/autox-tekton/autox/internal/badinput"

// problems collects the problems found on the way down a tree.
type problems []badinput.FieldError

func (p *problems) add(path, message string) {
	*p = append(*p, badinput.FieldError{Path: path, Message: message})
}

func (p problems) err(source string) error {
	if len(p) == 0 {
		return nil
	}
	// A top-level setting inherited by several endpoints is reported once.
	seen := map[badinput.FieldError]bool{}
	var out []badinput.FieldError
	for _, fe := range p {
		if !seen[fe] {
			seen[fe] = true
			out = append(out, fe)
		}
	}
	return &badinput.Error{Source: source, Problems: out}
}

// join builds a field path: "http" + "endpoints" -> "http.endpoints".
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
