// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
)

// TestValuesBoundedInput: a values file that is not a regular file, or
// whose aliases expand past the limit, and a --set with a character that
// would break the message's line, are each one problem naming the -f or
// --set and the fix. (/dev/null stands for every device: -f /dev/zero is
// run under a memory limit in internal/experiment's exec test.)
func TestValuesBoundedInput(t *testing.T) {
	dir := t.TempDir()
	laughs := filepath.Join(dir, "laughs.yaml")
	if err := os.WriteFile(laughs, []byte(`a: &a [x,x,x,x,x,x,x,x,x,x]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
groups: *f
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args Args
		want []badinput.FieldError
	}{
		{"-f a device", Args{Files: []string{"/dev/null"}},
			[]badinput.FieldError{{Path: "-f /dev/null", Message: "cannot read the values file: it is a device, not a regular file; pass a regular file of at most 4 MiB"}}},
		{"-f a folder", Args{Files: []string{dir}},
			[]badinput.FieldError{{Path: "-f " + dir, Message: "cannot read the values file: it is a folder, not a regular file; pass a regular file of at most 4 MiB"}}},
		{"-f a billion laughs", Args{Files: []string{laughs}},
			[]badinput.FieldError{{Path: "-f " + laughs, Message: "f[7]: the alias *e makes the YAML more than 1000000 values once aliases are expanded; write the values out, or use fewer aliases"}}},
		{"--set a key with a newline", Args{Sets: []string{"\n"}},
			[]badinput.FieldError{{Path: `--set "\n"`, Message: `key "\n" has no value; write "\n"=<value>`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, probs := values(tc.args)
			if diff := cmp.Diff(tc.want, probs); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
