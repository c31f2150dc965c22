// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package decide

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/contract"
)

// TestDecide_AVersionThatCannotBeALabel: a version label with a newline,
// of 100k characters or of invalid UTF-8 could not be the run's label:
// the decision changes nothing (no launch, no cancel of the run going, no
// record write, even of a launch lost meanwhile), says why, and the
// watcher does not ask about it again and again (Agrees).
func TestDecide_AVersionThatCannotBeALabel(t *testing.T) {
	const rule = `is not a valid label value (at most 63 characters: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit), so it cannot be a run's label: nothing launched or cancelled, the record left as it is; label the object with a valid version`
	going := record(entry(1, "1.0.0", contract.Running, 0))
	lost := record(entry(1, "1.0.0", contract.Launched, 0))
	long := strings.Repeat("9", 100_000)
	for _, tc := range []struct {
		name, version, want string
		rec                 contract.Record
	}{
		{"a newline", "2.0.0\n", `the object's label app.kubernetes.io/version: "2.0.0\n" ` + rule, going},
		{"100k characters", long, `the object's label app.kubernetes.io/version: "` + long[:64] + `"... (100000 bytes) ` + rule, going},
		{"invalid UTF-8", "2.0.0\xff", `the object's label app.kubernetes.io/version: "2.0.0\xff" ` + rule, going},
		{"64 characters, and a launch lost meanwhile", long[:64], `the object's label app.kubernetes.io/version: "` + long[:64] + `" ` + rule, lost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(grp, tc.rec, "rec-1", live(tc.version), t0.Add(contract.LostAfter*2))
			want := Decision{Record: tc.rec, Reason: tc.want}
			if diff := cmp.Diff(want, d); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !Agrees(grp, tc.rec, live(tc.version), t0) {
				t.Error("Agrees = false: the watcher would ask again and again")
			}
		})
	}
}
