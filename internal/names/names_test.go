// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package names

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClosest(t *testing.T) {
	keys := []string{"numRequests", "duration", "qps", "connections", "payloadStr", "payloadFile"}
	type result struct {
		Name string
		OK   bool
	}
	for _, tc := range []struct {
		name string
		want result
	}{
		{"numRequest", result{"numRequests", true}},
		{"durration", result{"duration", true}},
		{"payloadstr", result{"payloadStr", true}}, // one edit: s -> S
		{"payload", result{"payloadStr", true}},    // three edits; payloadFile is four
		{"timeout", result{"", false}},
		{"qps", result{"qps", true}},
	} {
		name, ok := Closest(tc.name, keys, 3)
		if diff := cmp.Diff(tc.want, result{name, ok}); diff != "" {
			t.Errorf("Closest(%q) (-want +got):\n%s", tc.name, diff)
		}
	}
	// Ties go to the alphabetically first.
	if name, _ := Closest("ab", []string{"ac", "aa"}, 1); name != "aa" {
		t.Errorf("Closest(ab, [ac aa]) = %q, want aa", name)
	}
}
