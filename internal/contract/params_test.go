// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package contract

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExperimentText: the experiment param reaches the run as YAML text,
// whether the Trigger gives it as an object or as its YAML.
func TestExperimentText(t *testing.T) {
	const missing = "params.experiment is missing; add {name: experiment, value: {tasks: [ready, http, assess], ready: ..., http: ..., assess: ...}}, the spec's values"
	for _, tc := range []struct {
		name, raw, want, wantErr string
	}{
		{name: "an object, written as YAML with sorted keys", raw: `{"tasks":["ready","http"],"http":{"url":"http://h/get","numRequests":200}}`,
			want: "http:\n  numRequests: 200\n  url: http://h/get\ntasks:\n- ready\n- http\n"},
		{name: "a string is the YAML as written", raw: `"tasks: [ready, http]\nhttp: {url: http://h/get}\n"`, want: "tasks: [ready, http]\nhttp: {url: http://h/get}\n"},
		{name: "absent", raw: ``, wantErr: missing},
		{name: "null", raw: `null`, wantErr: missing},
		{name: "blank string", raw: `"  \n"`, wantErr: missing},
		{name: "a list", raw: `["ready"]`, wantErr: `params.experiment: want the spec's values as an object (or its YAML as a string), got ["ready"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Params{Experiment: []byte(tc.raw)}.ExperimentText()
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff([]string{tc.want, tc.wantErr}, []string{got, gotErr}); diff != "" {
				t.Errorf("experimentText (-want +got):\n%s", diff)
			}
		})
	}
}
