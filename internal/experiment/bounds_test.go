// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
)

// laughs is a "billion laughs" document in grpc.data: nine lines of
// aliases that decoding would expand to 9^9 strings.
const laughs = `tasks: [grpc]
grpc:
  host: 127.0.0.1:1
  call: a.B.C
  data:
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

// denseAliases is 160,000 values, 99.7% of them from one anchor: within
// MaxYAMLValues, but yaml's own guard refuses it while decoding.
func denseAliases() string {
	var b strings.Builder
	b.WriteString("tasks: [grpc]\ngrpc:\n  host: 127.0.0.1:1\n  call: a.B.C\n  data:\n    a: &a [")
	for i := range 400 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprint(&b, i)
	}
	b.WriteString("]\n    b: [")
	for i := range 400 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("*a")
	}
	b.WriteString("]\n")
	return b.String()
}

// TestBoundedInput: inputs that once ended in out-of-memory or exit 3 are
// bad input (exit 2), one line naming the field, the limit and the fix.
func TestBoundedInput(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"billion laughs in grpc.data", laughs,
			[]string{`src: grpc.data.g[0]: the alias *f makes the YAML more than 1000000 values once aliases are expanded; write the values out, or use fewer aliases`}},
		{"billion laughs as the tasks", "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ntasks: *f\n",
			[]string{`src: f[7]: the alias *e makes the YAML more than 1000000 values once aliases are expanded; write the values out, or use fewer aliases`}},
		{"aliases that are nearly all of it", denseAliases(),
			[]string{`src: the aliases (*name) make up nearly all of the YAML once expanded, which YAML decoding refuses as a "billion laughs" document; write the values out, or use fewer aliases`}},
		{"more than 4 MiB of text", "tasks: [http]\n#" + strings.Repeat("x", 4<<20),
			[]string{`src: the experiment is 4194319 bytes, more than the limit of 4 MiB; write a smaller one (a large gRPC message belongs in dataFile)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "src")
			if !badinput.Is(err) {
				t.Fatalf("Parse = %v, want bad input", err)
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadRefusesWhatIsNotAFile: -f /dev/null (any device) or a folder is
// refused before it is read.
func TestLoadRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{"/dev/null", `cannot read experiment file "/dev/null": it is a device, not a regular file; pass a regular file of at most 4 MiB with -f`},
		{dir, fmt.Sprintf("cannot read experiment file %q: it is a folder, not a regular file; pass a regular file of at most 4 MiB with -f", dir)},
		{dir + "/absent.yaml", fmt.Sprintf("cannot read experiment file %q: no such file or directory; pass an existing file with -f", dir+"/absent.yaml")},
	} {
		_, err := Load(tc.path)
		if !badinput.Is(err) {
			t.Fatalf("Load(%q) = %v, want bad input", tc.path, err)
		}
		if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
			t.Errorf("Load(%q) (-want +got):\n%s", tc.path, diff)
		}
	}
}

// TestDuplicateKeys: a key given twice, in a section or in a map of
// values, is bad input naming both lines (found by FuzzParse: it was the
// internal-bug exit 3).
func TestDuplicateKeys(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"in a map", "tasks: [assess]\nassess:\n SLOs:\n  upper:\n      t: 1\n      n: 2\n      t: 3\n",
			"assess.SLOs.upper.t: is given twice (lines 5 and 7); keep one"},
		{"in a section", "tasks: [http]\nhttp: {url: http://h/}\ntasks: [http]\n",
			"tasks: is given twice (lines 1 and 3); keep one"},
		{"in free-form gRPC data", "tasks: [grpc]\ngrpc: {host: h:1, call: a.B.C, data: {a: 1, b: {c: 2, c: 3}}}\n",
			"grpc.data.b.c: is given twice (lines 2 and 2); keep one"},
		{"a key that is a list (FuzzParse: exit 3 before)", "tasks: [grpc]\ngrpc: {host: h:1, call: a.B.C, data: {!0 []}}\n",
			"grpc.data: line 2 has a key that is "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "x.yaml")
			if !badinput.Is(err) {
				t.Fatalf("Parse = %v, want bad input", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %q, want it to say %q", err, tc.want)
			}
		})
	}
}
