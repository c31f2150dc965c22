// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package badinput

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestError: one line per problem, each with its source and path when
// there is one; wrapped, it is still bad input.
func TestError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
		is   bool
	}{
		{"one field", Field("http.url", "missing; set http.url"), "http.url: missing; set http.url", true},
		{"no path", Field("", "no command given"), "no command given", true},
		{"a source and several problems", &Error{Source: "e.yaml", Problems: []FieldError{{Path: "tasks", Message: "missing"}, {Message: "the experiment is empty"}}},
			"e.yaml: tasks: missing\ne.yaml: the experiment is empty", true},
		{"wrapped", fmt.Errorf("reading: %w", Field("-o", `"pdf" is not an output format`)), `reading: -o: "pdf" is not an output format`, true},
		{"another error", errors.New("connection refused"), "connection refused", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := struct {
				Text string
				Is   bool
			}{tc.err.Error(), Is(tc.err)}
			want := struct {
				Text string
				Is   bool
			}{tc.want, tc.is}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
