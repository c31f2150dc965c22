// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/result"
)

// fixture is a result built the way assess builds one, from metrics with
// known latencies: get 1..4 ms, and a dead endpoint whose requests all failed.
func fixture(t *testing.T) *result.Result {
	t.Helper()
	spec, err := experiment.Parse([]byte(`
tasks: [http, assess]
http:
  endpoints:
    get: {url: http://127.0.0.1:8080/get}
    dead: {url: http://127.0.0.1:1/get}
assess:
  SLOs:
    upper:
      http-get/error-count: 0
      http-get/latency-mean: 2
      http-dead/latency-mean: 50
    lower:
      http-get/request-count: 4
`), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	get := &metrics.Endpoint{Task: "http", Name: "get", Target: "GET http://127.0.0.1:8080/get", RequestCount: 4,
		StatusCodes: map[string]int64{"200": 4}, Percentiles: []float64{50, 99}, DurationSeconds: 2, Latency: metrics.NewHistogram()}
	for _, ms := range []time.Duration{1, 2, 3, 4} {
		metrics.RecordLatency(get.Latency, ms*time.Millisecond)
	}
	dead := &metrics.Endpoint{Task: "http", Name: "dead", Target: "GET http://127.0.0.1:1/get", RequestCount: 3, ErrorCount: 3,
		Errors:      map[string]int64{`Get "http://127.0.0.1:1/get": dial tcp 127.0.0.1:1: connect: connection refused`: 3},
		Percentiles: []float64{50}, DurationSeconds: 0.5, Latency: metrics.NewHistogram()}
	files := map[string]*metrics.File{"http": {Task: "http", Endpoints: []*metrics.Endpoint{get, dead}}}
	return result.Build(spec, files, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
}

func TestTextLayout(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	want := `Experiment summary:
*******************

  Experiment completed: true
  No task failures: true
  Total number of tasks: 2
  Number of completed tasks: 2

Whether or not service level objectives (SLOs) are satisfied:
*************************************************************

  SLO Conditions                      | Satisfied
  --------------                      | ---------
  http-dead/latency-mean (msec) <= 50 | false (unavailable: no requests got a response)
  http-get/error-count <= 0           | true
  http-get/latency-mean (msec) <= 2   | false
  http-get/request-count >= 4         | true

Load sent:
**********

  Endpoint  | Requests | Errors | Duration (sec) | Rate (per sec)
  --------  | -------- | ------ | -------------- | --------------
  http-dead | 3        | 3      | 0.50           | 6.00
  http-get  | 4        | 0      | 2.00           | 2.00

  Target (http-dead): GET http://127.0.0.1:1/get
  Target (http-get): GET http://127.0.0.1:8080/get

Errors:
*******

  http-dead: 3 of 3 requests were errors
    3 x Get "http://127.0.0.1:1/get": dial tcp 127.0.0.1:1: connect: connection refused

Latest observed values for metrics:
***********************************

  Metric                         | value
  -------                        | -----
  http-dead/error-count          | 3.00
  http-dead/error-rate           | 1.00
  http-dead/request-count        | 3.00
  http-get/error-count           | 0.00
  http-get/error-rate            | 0.00
  http-get/latency-max (msec)    | 4.00
  http-get/latency-mean (msec)   | 2.50
  http-get/latency-min (msec)    | 1.00
  http-get/latency-p50 (msec)    | 2.00
  http-get/latency-p99 (msec)    | 4.00
  http-get/latency-stddev (msec) | 1.12
  http-get/request-count         | 4.00

  Metrics without a value:
    http-dead/latency-max: no requests got a response
    http-dead/latency-mean: no requests got a response
    http-dead/latency-min: no requests got a response
    http-dead/latency-p50: no requests got a response
    http-dead/latency-stddev: no requests got a response
`
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(b.String(), "\n")); diff != "" {
		t.Errorf("text report (-want +got):\n%s", diff)
	}
}

func TestBreaches(t *testing.T) {
	want := []string{
		"SLO not satisfied: http-dead/latency-mean (msec) <= 50: metric unavailable (no requests got a response)",
		"SLO not satisfied: http-get/latency-mean (msec) <= 2: observed 2.501",
	}
	if diff := cmp.Diff(want, Breaches(fixture(t))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestHTMLRendersInChromium renders the HTML report offline in headless
// Chromium and checks the screenshot: histogram bars drawn in their colour,
// and, from the top of the page down, the verdict and then each SLO row in
// red or green as the result says, in the report's order (so swapped
// colours fail, not only missing ones).
func TestHTMLRendersInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("AUTOX_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("chromium not found (install Debian's chromium): %v", err)
		}
		t.Skip("chromium not installed; make test installs it")
	}
	dir := t.TempDir()
	res := fixture(t)
	var page bytes.Buffer
	if err := HTML(&page, res); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, banned := range []string{"<script", "http://cdn", "https://", "<link"} {
		if strings.Contains(html, banned) {
			t.Errorf("report contains %q: it must be self-contained", banned)
		}
	}
	if got := strings.Count(html, `<rect class="bar"`); got != result.HistogramBars {
		t.Errorf("report has %d histogram bars, want %d for the one endpoint with latencies", got, result.HistogramBars)
	}
	in := filepath.Join(dir, "report.html")
	if err := os.WriteFile(in, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	screenshot(t, chromium, dir, in, shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if keep := os.Getenv("AUTOX_KEEP_SCREENSHOT"); keep != "" {
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keep, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	bar := [3]uint8{0x2f, 0x6f, 0xb0}
	barPixels := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(img, x, y, bar) {
				barPixels++
			}
		}
	}
	if barPixels < 2000 {
		t.Errorf("screenshot has %d histogram bar pixels, want at least 2000", barPixels)
	}

	colour := map[bool]string{true: "green", false: "red"}
	want := []string{colour[res.SLOsSatisfied]}
	for _, s := range res.SLOs {
		want = append(want, colour[s.Satisfied])
	}
	if diff := cmp.Diff(want, colourBands(img)); diff != "" {
		t.Errorf("red and green bands from the top (verdict, then each SLO row), (-want +got):\n%s", diff)
	}
}

// screenshot has Chromium write shot from the page in, killing it (and
// what it started) if it hangs.
func screenshot(t *testing.T, chromium, dir, in, shot string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1000,2600", "--screenshot="+shot, "file://"+in)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v (context: %v)\n%s", err, ctx.Err(), out)
	}
}

// colourBands reads the screenshot from the top down and names each band
// of lines that is mostly the report's red or green background; a table
// row is its own band, since rows are parted by a grey border line.
func colourBands(img image.Image) []string {
	colours := map[string][3]uint8{"red": {0xfb, 0xe0, 0xdd}, "green": {0xdc, 0xf5, 0xe3}}
	var bands []string
	last := ""
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		line := ""
		for name, c := range colours {
			n := 0
			for x := b.Min.X; x < b.Max.X; x++ {
				if near(img, x, y, c) {
					n++
				}
			}
			if n >= 60 {
				line = name
			}
		}
		if line != "" && line != last {
			bands = append(bands, line)
		}
		last = line
	}
	return bands
}

func near(img image.Image, x, y int, c [3]uint8) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	d := func(a uint32, b uint8) int { v := int(a>>8) - int(b); return max(v, -v) }
	return d(r, c[0]) <= 3 && d(g, c[1]) <= 3 && d(b, c[2]) <= 3
}

func TestFixedRateLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    result.Endpoint
		want string
	}{
		{"closed loop", result.Endpoint{Task: "http", Prefix: "http"}, ""},
		{"http at 200/s", result.Endpoint{Task: "http", Prefix: "http", Rate: 200, LateCount: 396},
			"200 requests/s asked; 396 sent more than 10ms late"},
		{"grpc at 8.5/s", result.Endpoint{Task: "grpc", Prefix: "grpc", Rate: 8.5},
			"8.5 calls/s asked; 0 sent more than 10ms late"},
	} {
		if diff := cmp.Diff(tc.want, FixedRate(tc.e)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
