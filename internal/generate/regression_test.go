// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRegressionValues: assess.regression under the seed's values tree
// reaches the Trigger's experiment, with --set's decimal strings (1.10,
// 0.01) typed as the numbers they limit; a metric that cannot be judged
// against a baseline is refused with its key and nothing is printed.
func TestRegressionValues(t *testing.T) {
	const spec = "groups.httpbin.specs.iter8.values."
	for _, tc := range []struct {
		name     string
		set      []string
		want     string
		wantErrs []string
	}{{
		name: "ratio and alpha by --set",
		set:  []string{spec + "assess.regression.maxRatio.http-get/latency-p99=1.10", spec + "assess.regression.alpha=0.01"},
		want: "regression:\n                alpha: 0.01\n                maxRatio: {http-get/latency-p99: 1.1}\n",
	}, {
		name: "a mean, a whole ratio",
		set:  []string{spec + "assess.regression.maxRatio.http-post/latency-mean=2"},
		want: "regression:\n                maxRatio: {http-post/latency-mean: 2}\n",
	}, {
		name:     "not a latency metric",
		set:      []string{spec + "assess.regression.maxRatio.http-get/error-count=1.10"},
		wantErrs: []string{`groups.httpbin.specs.iter8.values: assess.regression.maxRatio.http-get/error-count: "http-get/error-count" is not a latency metric`},
	}, {
		name:     "a ratio below 1",
		set:      []string{spec + "assess.regression.maxRatio.http-get/latency-p99=0.9"},
		wantErrs: []string{`assess.regression.maxRatio.http-get/latency-p99: 0.9 is not a ratio of at least 1`},
	}, {
		name:     "a ratio that is not a number",
		set:      []string{spec + "assess.regression.maxRatio.http-get/latency-p99=fast"},
		wantErrs: []string{`assess.regression.maxRatio.http-get/latency-p99: "fast" is not a number`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			args := seedArgs(t, "seed-http.args")
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			out, _, err := FromArgs(args)
			if tc.wantErrs != nil {
				if err == nil || len(out) != 0 {
					t.Fatalf("err %v and %d bytes printed, want an error and nothing printed", err, len(out))
				}
				for _, w := range tc.wantErrs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			i := strings.Index(string(out), "regression:")
			if i < 0 {
				t.Fatalf("no regression in the Trigger:\n%s", out)
			}
			got := string(out[i:])
			got = got[:strings.Index(got, "  bindings:")]
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("the Trigger's assess.regression (-want +got):\n%s", diff)
			}
		})
	}
}
