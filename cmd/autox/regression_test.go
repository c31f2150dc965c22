// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/test/apps/httpbin/app"
)

// service answers after latency, as a service whose own work takes it.
func service(latency time.Duration) *httptest.Server {
	a := app.New()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		a.ServeHTTP(w, r)
	}))
}

func regressionExperiment(url string) string {
	return `
tasks: [http, assess]
http:
  numRequests: 600
  qps: 400
  connections: 16
  endpoints:
    get: {url: ` + url + `/get}
assess:
  SLOs:
    upper:
      http-get/error-count: 0
  regression:
    maxRatio:
      http-get/latency-p99: 1.50
      http-get/latency-mean: 1.10
`
}

// The limits are above what the same build varies from run to run here:
// a mean by 1-3%, a p99 of 600 requests by 15-20% (11.6 to 14.6 ms over
// 60 runs of this test). A p99 limit of 1.10 failed the same build
// against a run whose p99 happened to be low (11.6 ms: then 13.4 ms,
// ratio 1.15, p 0.0003): what varies between runs (not between blocks of
// one run) is not noise the test on blocks can see, so the limit must
// leave room for it.

// TestRunRegression: autox run --baseline judges a run against an earlier
// one's result, on the runs' blocks. The same service run ten times, each
// against the one before, never regresses twice in a row (the
// false-positive rate is logged; judged per request, one busy moment of
// the machine made a run in two regress on p99 without the race
// detector); a version
// 20 ms slower regresses with p < 0.01, exit 1, the ratio and p in the
// result; the first run, without a baseline, judges nothing and passes.
//
// It judges timing, so it runs without the race detector (make unit runs
// it apart): under it, in CI, one same-build run in about five was slower
// for its whole 1.5 s (mean 1.18x, p99 14 -> 37 ms in many blocks), which
// the verdict rightly calls a regression: nothing in two runs tells a
// slower machine from a slower build.
func TestRunRegression(t *testing.T) {
	if raceDetector {
		t.Skip("judges latencies: runs without the race detector (make unit runs it so)")
	}
	dir := t.TempDir()
	same := service(10 * time.Millisecond)
	defer same.Close()
	exp := writeExperiment(t, dir, regressionExperiment(same.URL))

	base := filepath.Join(dir, "run0")
	code, stdout, stderr := autox(t, "run", "-f", exp, "--out", base)
	if code != 0 {
		t.Fatalf("first run: exit %d\n%s%s", code, stdout, stderr)
	}
	first := readResult(t, base)
	if first.Regression == nil || first.Regression.Baseline != nil || !strings.Contains(first.Regression.Note, "no baseline") || first.Regressed {
		t.Errorf("first run's regression %+v, regressed %t: want no baseline, a note, not regressed", first.Regression, first.Regressed)
	}

	const runs = 10
	regressed, slowMachine, significant := 0, 0, 0
	var passed []string // the runs that passed, each a baseline
	// judge runs the same build against base and checks the result's
	// shape and exit status.
	judge := func(name string) (out string, r *result.Result) {
		out = filepath.Join(dir, name)
		code, stdout, stderr := autox(t, "run", "-f", exp, "--out", out, "--baseline", filepath.Join(base, "result.json"))
		r = readResult(t, out)
		if r.Regression == nil || r.Regression.Baseline == nil || len(r.Regression.Verdicts) != 2 {
			t.Fatalf("%s: regression %+v, want a baseline and two verdicts", name, r.Regression)
		}
		for _, v := range r.Regression.Verdicts {
			t.Logf("same build, %s: %s %.3f -> %.3f ms, ratio %.3f, p %.3g on %d blocks, regressed %t", name, v.Metric, v.Baseline, v.Candidate, v.Ratio, v.P, v.Blocks, v.Regressed)
			// 600 requests are 19 blocks of about 32 a run: a burst of
			// slow ones weighs as a block or two, not as many independent
			// requests.
			if v.Blocks != 38 {
				t.Errorf("%s, %s: judged on %d blocks, want 38 (19 of each run)", name, v.Metric, v.Blocks)
			}
		}
		if want := map[bool]int{true: 1, false: 0}[r.Regressed]; code != want {
			t.Errorf("%s: regressed %t with exit %d, want %d\n%s%s", name, r.Regressed, code, want, stdout, stderr)
		}
		return out, r
	}
	for i := 1; i <= runs; i++ {
		out, r := judge(fmt.Sprintf("run%d", i))
		for _, v := range r.Regression.Verdicts {
			if v.P < 0.01 {
				significant++
			}
		}
		if r.Regressed {
			// This machine (2 shared cores) has moments, up to a second
			// or so, when everything on it runs slower: once p99 13.7 ->
			// 75.9 ms and the mean 1.25x within one run, about one run
			// in twenty. Two runs cannot tell a slower machine from a
			// slower build, and the verdict rightly calls that run
			// slower; so a regressed run is judged once more against the
			// same baseline. A judge that favours the baseline fails
			// both; a slow moment does not come twice in a row.
			if out, r = judge(fmt.Sprintf("run%d-again", i)); r.Regressed {
				regressed++
				continue
			}
			slowMachine++
		}
		base = out
		passed = append(passed, out)
	}
	t.Logf("same build judged against itself %d times: regressed %d (false-positive rate %.0f%%); %d regressed once and not when judged again; p < 0.01 in %d of %d metrics",
		runs, regressed, 100*float64(regressed)/runs, slowMachine, significant, 2*runs)
	if regressed != 0 {
		t.Errorf("the same build regressed %d times in %d (each twice in a row), want never", regressed, runs)
	}
	if slowMachine > runs/2 {
		t.Errorf("the same build regressed once in %d of %d runs (then passed): want a slow moment of the machine to be rare, not the rule", slowMachine, runs)
	}

	// The slower version is judged against a typical run of the same
	// build: the passed run with the median p99. The last run is not
	// always typical: in CI (race detector, one busy moment) it once had
	// p99 36.5 ms from one burst against 13-15 ms for the others, and a
	// baseline that slow rightly finds a 33.6 ms p99 no regression (the
	// limit is 1.10 x the baseline's own value). The verdict on such a
	// baseline is shown by TestBlocksBurst; here the shift must be found.
	base = medianP99(t, passed)
	slow := service(30 * time.Millisecond)
	defer slow.Close()
	out := filepath.Join(dir, "slow")
	code, stdout, stderr = autox(t, "run", "-f", writeExperiment(t, t.TempDir(), regressionExperiment(slow.URL)), "--out", out, "--baseline", filepath.Join(base, "result.json"))
	r := readResult(t, out)
	if code != 1 || !r.Regressed || !r.SLOsSatisfied {
		t.Errorf("20 ms slower: exit %d, regressed %t, SLOs satisfied %t; want exit 1, regressed, SLOs satisfied\n%s%s", code, r.Regressed, r.SLOsSatisfied, stdout, stderr)
	}
	for _, v := range r.Regression.Verdicts {
		t.Logf("20 ms slower: %s %.3f -> %.3f ms, ratio %.2f, p %.3g on %d blocks", v.Metric, v.Baseline, v.Candidate, v.Ratio, v.P, v.Blocks)
		if !v.Regressed || v.P >= 0.01 || v.Ratio < 1.5 || v.Unavailable != "" {
			t.Errorf("20 ms slower, %s: %+v; want regressed with p < 0.01 and a ratio above 1.5", v.Metric, v)
		}
	}
	if !strings.Contains(stdout, "::error::") {
		t.Errorf("a regression printed no ::error:: line:\n%s", stdout)
	}

	code, _, stderr = autox(t, "run", "-f", exp, "--baseline", filepath.Join(dir, "nothing.json"))
	if code != 2 || !strings.Contains(stderr, "--baseline") {
		t.Errorf("a missing --baseline file: exit %d, want 2 naming --baseline:\n%s", code, stderr)
	}
}

// medianP99 returns the run among dirs whose http-get/latency-p99 is the
// median of theirs.
func medianP99(t *testing.T, dirs []string) string {
	t.Helper()
	if len(dirs) == 0 {
		t.Fatal("no run passed to serve as a baseline")
	}
	p99 := make(map[string]float64, len(dirs))
	for _, d := range dirs {
		v, ok := readResult(t, d).Metrics["http-get/latency-p99"]
		if !ok {
			t.Fatalf("%s: no http-get/latency-p99 in the result", d)
		}
		p99[d] = v
	}
	sorted := append([]string(nil), dirs...)
	sort.Slice(sorted, func(i, j int) bool { return p99[sorted[i]] < p99[sorted[j]] })
	median := sorted[len(sorted)/2]
	t.Logf("baseline for the slower version: %s, p99 %.3f ms (the median of %d passed runs)", filepath.Base(median), p99[median], len(sorted))
	return median
}

func readResult(t *testing.T, dir string) *result.Result {
	t.Helper()
	r, err := result.Read(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}
