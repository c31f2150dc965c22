// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package report

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/pipelineruns/pipelinerunstest"
)

// compareFixture is two versions of httpbin as assess builds and store
// keeps them: 1.0.0 fast (get 2..8 ms), 2.0.0 slow on get (40..110 ms,
// breaching its SLO) with a looser limit and 3 failed posts.
func compareFixture(t *testing.T) []Column {
	t.Helper()
	v1 := pipelinerunstest.Result(t, 50, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(200, 2, 8)}, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(200, 5, 30)})
	v2 := pipelinerunstest.Result(t, 60, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(200, 40, 110)}, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(197, 5, 45), Errors: 3})
	return []Column{
		{Version: "1.0.0", Run: "autox-httpbin-iter8-0a1b2c3d4e", Result: v1},
		{Version: "2.0.0", Run: "autox-httpbin-iter8-5f6a7b8c9d", Result: v2},
	}
}

func TestCompareText(t *testing.T) {
	var b bytes.Buffer
	if err := CompareText(&b, "autox-httpbin-iter8", compareFixture(t)); err != nil {
		t.Fatal(err)
	}
	want := `Comparison of autox-httpbin-iter8, versions 1.0.0, 2.0.0 (oldest first):
************************************************************************

  Version | Run                            | Ended                | Verdict
  ------- | ---                            | -----                | -------
  1.0.0   | autox-httpbin-iter8-0a1b2c3d4e | 2026-11-27T10:00:00Z | All SLOs satisfied
  2.0.0   | autox-httpbin-iter8-5f6a7b8c9d | 2026-11-27T10:00:00Z | SLOs not satisfied

Whether or not service level objectives (SLOs) are satisfied:
*************************************************************

  SLO Conditions                      | 1.0.0      | 2.0.0
  --------------                      | -----      | -----
  http-get/error-count <= 0           | 0.00 PASS  | 0.00 PASS
  http-get/latency-mean (msec) <= 50  | 5.00 PASS  | -
  http-get/latency-mean (msec) <= 60  | -          | 75.00 FAIL
  http-post/latency-p99 (msec) <= 100 | 29.76 PASS | 44.61 PASS

Latest observed values for metrics:
***********************************

  Metric                          | 1.0.0  | 2.0.0
  ------                          | -----  | -----
  http-get/error-count            | 0.00   | 0.00
  http-get/error-rate             | 0.00   | 0.00
  http-get/latency-max (msec)     | 8.00   | 110.02
  http-get/latency-mean (msec)    | 5.00   | 75.00
  http-get/latency-min (msec)     | 2.00   | 40.00
  http-get/latency-p50 (msec)     | 4.99   | 74.88
  http-get/latency-p99 (msec)     | 7.94   | 109.31
  http-get/latency-stddev (msec)  | 1.74   | 20.31
  http-get/request-count          | 200.00 | 200.00
  http-post/error-count           | 0.00   | 3.00
  http-post/error-rate            | 0.00   | 0.01
  http-post/latency-max (msec)    | 30.02  | 45.02
  http-post/latency-mean (msec)   | 17.50  | 25.00
  http-post/latency-min (msec)    | 5.00   | 5.00
  http-post/latency-p50 (msec)    | 17.44  | 25.01
  http-post/latency-p99 (msec)    | 29.76  | 44.61
  http-post/latency-stddev (msec) | 7.25   | 11.61
  http-post/request-count         | 200.00 | 200.00
`
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(b.String(), "\n")); diff != "" {
		t.Errorf("comparison (-want +got):\n%s", diff)
	}
}

// TestCompareHTMLRendersInChromium renders a two-version comparison
// offline in headless Chromium, as TestHTMLRendersInChromium does the
// report, and checks the screenshot: each version's outline drawn in its
// colour on every endpoint's chart, and both PASS (green) and FAIL (red)
// cells. AUTOX_KEEP_SCREENSHOT=<path> keeps the screenshot.
func TestCompareHTMLRendersInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("AUTOX_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("chromium not found (install Debian's chromium): %v", err)
		}
		t.Skip("chromium not installed; make test installs it")
	}
	dir := t.TempDir()
	var page bytes.Buffer
	if err := CompareHTML(&page, "autox-httpbin-iter8", compareFixture(t)); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, banned := range []string{"<script", "http://cdn", "https://", "<link"} {
		if strings.Contains(html, banned) {
			t.Errorf("comparison contains %q: it must be self-contained", banned)
		}
	}
	// Two endpoints, two versions each.
	if got := strings.Count(html, `<polygon class="series"`); got != 4 {
		t.Errorf("comparison has %d histogram outlines, want 4 (2 endpoints x 2 versions)", got)
	}
	for _, legend := range []string{">1.0.0 (200 responses)</text>", ">2.0.0 (200 responses)</text>", ">2.0.0 (197 responses)</text>"} {
		if !strings.Contains(html, legend) {
			t.Errorf("comparison has no legend %q", legend)
		}
	}
	in := filepath.Join(dir, "compare.html")
	if err := os.WriteFile(in, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	screenshot(t, chromium, dir, in, shot)
	raw, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if keep := os.Getenv("AUTOX_KEEP_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	colours := map[string][3]uint8{
		"1.0.0 outline": {0x2f, 0x6f, 0xb0}, "2.0.0 outline": {0xd9, 0x73, 0x0d},
		"PASS cell": {0xdc, 0xf5, 0xe3}, "FAIL cell": {0xfb, 0xe0, 0xdd},
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			for name, c := range colours {
				if near(img, x, y, c) {
					counts[name]++
				}
			}
		}
	}
	for name, least := range map[string]int{"1.0.0 outline": 400, "2.0.0 outline": 400, "PASS cell": 2000, "FAIL cell": 1000} {
		if counts[name] < least {
			t.Errorf("screenshot has %d pixels of the %s colour, want at least %d", counts[name], name, least)
		}
	}
}

// TestCompareHTMLFromBars: a result whose HDR histogram was cut to fit the
// ConfigMap still charts, from its bars.
func TestCompareHTMLFromBars(t *testing.T) {
	cols := compareFixture(t)
	for i := range cols[1].Result.Endpoints {
		cols[1].Result.Endpoints[i].Latency = "" // as store.Fit drops it first
	}
	var page bytes.Buffer
	if err := CompareHTML(&page, "autox-httpbin-iter8", cols); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(page.String(), `<polygon class="series"`); got != 4 {
		t.Errorf("comparison has %d histogram outlines, want 4", got)
	}
}
