package report

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

  Endpoint  | Target                        | Requests | Errors | Duration (sec) | Rate (per sec)
  --------  | ------                        | -------- | ------ | -------------- | --------------
  http-dead | GET http://127.0.0.1:1/get    | 3        | 3      | 0.50           | 6.00
  http-get  | GET http://127.0.0.1:8080/get | 4        | 0      | 2.00           | 2.00

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
// the violated SLO rows in red, the satisfied ones in green.
func TestHTMLRendersInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("AUTOX_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("chromium not found (install Debian's chromium): %v", err)
		}
		t.Skip("chromium not installed; make test installs it")
	}
	dir := t.TempDir()
	var page bytes.Buffer
	if err := HTML(&page, fixture(t)); err != nil {
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
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1000,2600", "--screenshot="+shot, "file://"+in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
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
		b, _ := os.ReadFile(shot)
		os.WriteFile(keep, b, 0o644)
	}
	counts := map[string]int{}
	colours := map[string][3]uint8{"bar": {0x2f, 0x6f, 0xb0}, "red row": {0xfb, 0xe0, 0xdd}, "green row": {0xdc, 0xf5, 0xe3}}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			for name, c := range colours {
				if near(img, x, y, c) {
					counts[name]++
				}
			}
		}
	}
	for name, minPixels := range map[string]int{"bar": 2000, "red row": 2000, "green row": 2000} {
		if counts[name] < minPixels {
			t.Errorf("screenshot has %d %s pixels, want at least %d (counts %v)", counts[name], name, minPixels, counts)
		}
	}
}

func near(img image.Image, x, y int, c [3]uint8) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	d := func(a uint32, b uint8) int { v := int(a>>8) - int(b); return max(v, -v) }
	return d(r, c[0]) <= 3 && d(g, c[1]) <= 3 && d(b, c[2]) <= 3
}
