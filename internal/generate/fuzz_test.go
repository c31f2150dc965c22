// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseSet: whatever a --set argument, parseSet answers assignments
// or one line of error, never a panic; each assignment applies to the
// values (or refuses in one line), and its path written back in --set
// notation reads as the same path. Lists stay within maxIndex.
func FuzzParseSet(f *testing.F) {
	for _, seed := range []string{
		"groups.httpbin.trigger.name=httpbin",
		"groups.httpbin.specs.iter8.values.tasks={ready,http,assess}",
		`a\.b=1\,2,c[3]=x,d={}`,
		"autox.groups.x.trigger.namespace=default",
		"a[1000]=1",
		"a..b=1",
		"noval[0]",
		"x=y,",
		`\`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		as, err := parseSet(s)
		if err != nil {
			oneLine(t, err)
			return
		}
		root := map[string]any{}
		for _, a := range as {
			if len(a.path) == 0 || len(a.path) > 2*maxDepth+2 {
				t.Fatalf("path of %d segments", len(a.path))
			}
			for _, seg := range a.path {
				if seg.isIndex && (seg.index < 0 || seg.index > maxIndex) {
					t.Fatalf("index %d outside 0..%d", seg.index, maxIndex)
				}
			}
			again, err := parseSet(pathString(a.path) + "=x")
			if err != nil || len(again) != 1 {
				t.Fatalf("%q written back as %q reads as %d assignments, %v", s, pathString(a.path), len(again), err)
			}
			if diff := cmp.Diff(a.path, again[0].path, cmp.AllowUnexported(segment{})); diff != "" {
				t.Fatalf("%q: path written back as %q reads differently (-first +again):\n%s", s, pathString(a.path), diff)
			}
			if err := apply(root, a); err != nil {
				oneLine(t, err)
			}
		}
	})
}

// oneLine fails t when err is not one line of text.
func oneLine(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("an error that is not one line: %q", msg)
	}
}
