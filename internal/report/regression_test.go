// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/result"
)

// The regression verdicts of the example: 2.0.0's p99 more than
// twice 1.0.0's (p underflows to 0), its mean within the limit, and an
// endpoint the baseline did not have.
var (
	regressedP99 = result.RegressionVerdict{Metric: "http-get/latency-p99", MaxRatio: 1.10, Baseline: 16.29, Candidate: 37.15, Ratio: 2.2805, P: 0, Slower: 0.97, Regressed: true}
	heldMean     = result.RegressionVerdict{Metric: "http-get/latency-mean", MaxRatio: 1.10, Baseline: 5.002, Candidate: 5.1, Ratio: 1.0196, P: 0.4123, Slower: 0.51}
	noisyPost    = result.RegressionVerdict{Metric: "http-post/latency-p99", MaxRatio: 1.10, Baseline: 29.76, Candidate: 33.1, Ratio: 1.1122, P: 0.0312, Slower: 0.53}
	newEndpoint  = result.RegressionVerdict{Metric: "http-put/latency-p99", MaxRatio: 1.20, Unavailable: "the baseline has no endpoint http-put"}
	baseline1    = &result.Baseline{Version: "1.0.0", Run: "autox-httpbin-iter8-0a1b2c3d4e", EndTime: time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)}
)

func withRegression(r *result.Result, g *result.Regression) *result.Result {
	r.Regression = g
	for _, v := range g.Verdicts {
		r.Regressed = r.Regressed || v.Regressed
	}
	return r
}

// TestTextRegression: the regression section sits between the SLOs and
// the load; everything else is the report without it.
func TestTextRegression(t *testing.T) {
	for _, tc := range []struct {
		name       string
		regression *result.Regression
		want       string
	}{
		{"regressed, held, noise and not judged", &result.Regression{Baseline: baseline1, Alpha: 0.01, Verdicts: []result.RegressionVerdict{heldMean, regressedP99, noisyPost, newEndpoint}}, `Whether or not this version is slower than its baseline (regression):
*********************************************************************

  Baseline: version 1.0.0 (run autox-httpbin-iter8-0a1b2c3d4e)

  Metric                | Baseline (msec) | This run (msec) | Ratio (limit) | p        | Verdict
  ------                | --------------- | --------------- | ------------- | -        | -------
  http-get/latency-mean | 5.00            | 5.10            | 1.02x (1.10x) | 0.412    | PASS
  http-get/latency-p99  | 16.29           | 37.15           | 2.28x (1.10x) | < 1e-300 | FAIL
  http-post/latency-p99 | 29.76           | 33.10           | 1.11x (1.10x) | 0.0312   | PASS
  http-put/latency-p99  | -               | -               | - (1.20x)     | -        | not judged: the baseline has no endpoint http-put

  FAIL: the ratio is above its limit and p is below alpha 0.01 (the slowdown is not noise).

`},
		{"no baseline: the note", &result.Regression{Note: "no baseline: no earlier version of this group passed", Alpha: 0.01}, `Whether or not this version is slower than its baseline (regression):
*********************************************************************

  no baseline: no earlier version of this group passed

`},
		{"a baseline without the run's name", &result.Regression{Baseline: &result.Baseline{Version: "1.0.0"}, Alpha: 0.05}, `Whether or not this version is slower than its baseline (regression):
*********************************************************************

  Baseline: version 1.0.0

  No metric was judged.

`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var plain, got bytes.Buffer
			if err := Text(&plain, fixture(t)); err != nil {
				t.Fatal(err)
			}
			if err := Text(&got, withRegression(fixture(t), tc.regression)); err != nil {
				t.Fatal(err)
			}
			before, after, ok := strings.Cut(plain.String(), "Load sent:\n")
			if !ok {
				t.Fatalf("no Load sent section in\n%s", plain.String())
			}
			want := before + tc.want + "Load sent:\n" + after
			if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(got.String(), "\n")); diff != "" {
				t.Errorf("text report (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBreachesRegression(t *testing.T) {
	slos := []string{
		"SLO not satisfied: http-dead/latency-mean (msec) <= 50: metric unavailable (no requests got a response)",
		"SLO not satisfied: http-get/latency-mean (msec) <= 2: observed 2.501",
	}
	for _, tc := range []struct {
		name       string
		regression *result.Regression
		want       []string
	}{
		{"one line per regressed metric, after the SLOs", &result.Regression{Baseline: baseline1, Alpha: 0.01, Verdicts: []result.RegressionVerdict{heldMean, regressedP99, noisyPost, newEndpoint,
			{Metric: "http-get/latency-p50", MaxRatio: 1.5, Baseline: 4.2, Candidate: 9.9, Ratio: 2.357, P: 0.00012, Regressed: true}}},
			append(slos,
				"regression: http-get/latency-p99 is 37.15 msec, 2.28x baseline 1.0.0's 16.29 msec (limit 1.10x, p < 1e-300)",
				"regression: http-get/latency-p50 is 9.90 msec, 2.36x baseline 1.0.0's 4.20 msec (limit 1.50x, p = 0.00012)")},
		{"nothing regressed", &result.Regression{Baseline: baseline1, Alpha: 0.01, Verdicts: []result.RegressionVerdict{heldMean, noisyPost}}, slos},
		{"no baseline", &result.Regression{Note: "no baseline: no earlier version of this group passed"}, slos},
		{"no regression section", nil, slos},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture(t)
			if tc.regression != nil {
				r = withRegression(r, tc.regression)
			}
			if diff := cmp.Diff(tc.want, Breaches(r)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(slos, SLOBreaches(r)); diff != "" {
				t.Errorf("SLOBreaches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestP(t *testing.T) {
	for _, tc := range []struct {
		p          float64
		want, with string
	}{
		{0, "< 1e-300", "p < 1e-300"},
		{5e-324, "4.94e-324", "p = 4.94e-324"},
		{0.000123456, "0.000123", "p = 0.000123"},
		{0.41234, "0.412", "p = 0.412"},
		{1, "1", "p = 1"},
	} {
		if got := P(tc.p); got != tc.want {
			t.Errorf("P(%g) = %q, want %q", tc.p, got, tc.want)
		}
		if got := PWith(tc.p); got != tc.with {
			t.Errorf("PWith(%g) = %q, want %q", tc.p, got, tc.with)
		}
	}
}

// TestHTMLRegression: the page's regression section has the baseline and
// one row per verdict, coloured by its verdict; without a baseline, the
// note; without a regression section, none (and the verdict badge says a
// slower version is not good).
func TestHTMLRegression(t *testing.T) {
	for _, tc := range []struct {
		name       string
		regression *result.Regression
		want       []string
		wantNot    []string
	}{
		{"verdicts", &result.Regression{Baseline: baseline1, Alpha: 0.01, Verdicts: []result.RegressionVerdict{regressedP99, heldMean, newEndpoint}}, []string{
			`<h2>Regression against the baseline</h2>`,
			`<p>Baseline: version 1.0.0 (run autox-httpbin-iter8-0a1b2c3d4e)</p>`,
			`<tr class="bad"><td>http-get/latency-p99</td><td class="num">16.29</td><td class="num">37.15</td><td class="num">2.28x (1.10x)</td><td class="num">&lt; 1e-300</td><td>FAIL</td></tr>`,
			`<tr class="good"><td>http-get/latency-mean</td><td class="num">5.00</td><td class="num">5.10</td><td class="num">1.02x (1.10x)</td><td class="num">0.412</td><td>PASS</td></tr>`,
			`<tr class="good"><td>http-put/latency-p99</td><td class="num">-</td><td class="num">-</td><td class="num">- (1.20x)</td><td class="num">-</td><td>not judged: the baseline has no endpoint http-put</td></tr>`,
			`<p class="muted">FAIL: the ratio is above its limit and p is below alpha 0.01 (the slowdown is not noise).</p>`,
		}, nil},
		{"no baseline", &result.Regression{Note: "no baseline: no earlier version of this group passed", Alpha: 0.01}, []string{
			`<h2>Regression against the baseline</h2>`,
			`<p class="muted">no baseline: no earlier version of this group passed</p>`,
		}, []string{"Baseline: version"}},
		{"none", nil, nil, []string{"Regression against the baseline"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture(t)
			if tc.regression != nil {
				r = withRegression(r, tc.regression)
			}
			var b bytes.Buffer
			if err := HTML(&b, r); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("the page lacks %s", w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(b.String(), w) {
					t.Errorf("the page has %s", w)
				}
			}
		})
	}
}

func TestVerdictRegressed(t *testing.T) {
	r := &result.Result{SLOsSatisfied: true}
	for _, tc := range []struct {
		name   string
		r      *result.Result
		want   string
		wantOK bool
	}{
		{"all SLOs hold", r, "All SLOs satisfied", true},
		{"all SLOs hold, nothing regressed", withRegression(&result.Result{SLOsSatisfied: true}, &result.Regression{Baseline: baseline1, Verdicts: []result.RegressionVerdict{heldMean}}), "All SLOs satisfied", true},
		{"all SLOs hold, slower", withRegression(&result.Result{SLOsSatisfied: true}, &result.Regression{Baseline: baseline1, Verdicts: []result.RegressionVerdict{regressedP99}}), "All SLOs satisfied, slower than baseline 1.0.0", false},
		{"an SLO breached and slower", withRegression(&result.Result{}, &result.Regression{Baseline: baseline1, Verdicts: []result.RegressionVerdict{regressedP99}}), "SLOs not satisfied", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := verdict(tc.r)
			if diff := cmp.Diff([]any{tc.want, tc.wantOK}, []any{got, ok}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestCompareTextRegression: a regression table between the SLOs and the
// metrics when a version has a regression section; the rest as without.
func TestCompareTextRegression(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(cols []Column)
		want string
	}{
		{"the first version without a baseline, the second slower", func(cols []Column) {
			withRegression(cols[0].Result, &result.Regression{Note: "no baseline: no earlier version of this group passed", Alpha: 0.01})
			withRegression(cols[1].Result, &result.Regression{Baseline: baseline1, Alpha: 0.01, Verdicts: []result.RegressionVerdict{regressedP99, heldMean, newEndpoint}})
		}, `Whether or not each version is slower than its baseline (regression):
*********************************************************************

  Metric                       | 1.0.0 | 2.0.0
  ------                       | ----- | -----
  Baseline                     | none  | 1.0.0
  http-get/latency-mean (msec) | -     | 5.10, 1.02x (limit 1.10x), p = 0.412 PASS
  http-get/latency-p99 (msec)  | -     | 37.15, 2.28x (limit 1.10x), p < 1e-300 FAIL
  http-put/latency-p99 (msec)  | -     | not judged

`},
		{"only the second has a regression section", func(cols []Column) {
			withRegression(cols[1].Result, &result.Regression{Baseline: baseline1, Alpha: 0.01, Verdicts: []result.RegressionVerdict{heldMean}})
		}, `Whether or not each version is slower than its baseline (regression):
*********************************************************************

  Metric                       | 1.0.0 | 2.0.0
  ------                       | ----- | -----
  Baseline                     | -     | 1.0.0
  http-get/latency-mean (msec) | -     | 5.10, 1.02x (limit 1.10x), p = 0.412 PASS

`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var plain, got bytes.Buffer
			if err := CompareText(&plain, "autox-httpbin-iter8", compareFixture(t)); err != nil {
				t.Fatal(err)
			}
			cols := compareFixture(t)
			tc.set(cols)
			if err := CompareText(&got, "autox-httpbin-iter8", cols); err != nil {
				t.Fatal(err)
			}
			before, after, ok := strings.Cut(plain.String(), "Latest observed values for metrics:\n")
			if !ok {
				t.Fatalf("no metrics section in\n%s", plain.String())
			}
			want := before + tc.want + "Latest observed values for metrics:\n" + after
			if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(got.String(), "\n")); diff != "" {
				t.Errorf("comparison (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareHTMLRegression(t *testing.T) {
	cols := compareFixture(t)
	withRegression(cols[1].Result, &result.Regression{Baseline: baseline1, Alpha: 0.01, Verdicts: []result.RegressionVerdict{regressedP99}})
	var b bytes.Buffer
	if err := CompareHTML(&b, "autox-httpbin-iter8", cols); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`<h2>Regression against each version's baseline</h2>`,
		`<tr><td>Baseline</td><td>-</td><td>1.0.0</td></tr>`,
		`<tr><td>http-get/latency-p99 (msec)</td><td class="num">-</td><td class="num bad">37.15, 2.28x (limit 1.10x), p &lt; 1e-300 FAIL</td></tr>`,
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("the page lacks %s", w)
		}
	}
	var plain bytes.Buffer
	if err := CompareHTML(&plain, "autox-httpbin-iter8", compareFixture(t)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "Regression") {
		t.Errorf("a comparison without regression sections has a regression table")
	}
}
