// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// heySummary is hey's default output, as hey v0.1.5 prints it.
const heySummary = `
Summary:
  Total:	2.6659 secs
  Slowest:	0.0311 secs
  Fastest:	0.0001 secs
  Average:	0.0021 secs
  Requests/sec:	7502.0272
  
  Total data:	4680000 bytes
  Size/request:	234 bytes

Response time histogram:
  0.000 [1]	|
  0.003 [15880]	|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■

Latency distribution:
  10%% in 0.0004 secs
  50%% in 0.0014 secs
  99%% in 0.0085 secs

Details (average, fastest, slowest):
  DNS+dialup:	0.0000 secs, 0.0001 secs, 0.0047 secs
  resp read:	0.0001 secs, 0.0000 secs, 0.0105 secs

Status code distribution:
  [200]	20000 responses


`

func TestParseHey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		out     string
		want    HeyResult
		wantErr string
	}{
		{
			name: "summary",
			out:  heySummary,
			want: HeyResult{RPS: 7502.0272, P99: 8500 * time.Microsecond, Responses: map[int]int64{200: 20000}},
		},
		{
			name: "no latency distribution: p99 is 0",
			out:  "  Requests/sec:\t10.5000\n\nStatus code distribution:\n  [200]\t21 responses\n",
			want: HeyResult{RPS: 10.5, Responses: map[int]int64{200: 21}},
		},
		{
			name:    "errors",
			out:     "  Requests/sec:\t11292.6804\n\nError distribution:\n  [20000]\tGet \"http://127.0.0.1:1/get\": connection refused\n",
			wantErr: "hey saw errors:\n  Requests/sec:\t11292.6804\n\nError distribution:\n  [20000]\tGet \"http://127.0.0.1:1/get\": connection refused",
		},
		{
			name:    "a status other than 200",
			out:     "  Requests/sec:\t100.0000\n\nStatus code distribution:\n  [200]\t90 responses\n  [503]\t10 responses\n",
			wantErr: "hey got 10 responses with status 503, want 200 only",
		},
		{
			name:    "no rate",
			out:     "flag provided but not defined: -x\n",
			wantErr: "hey printed no Requests/sec line:\nflag provided but not defined: -x",
		},
		{
			name:    "no responses",
			out:     "  Requests/sec:\t0.0000\n",
			wantErr: "hey printed no responses:\n  Requests/sec:\t0.0000",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHey(tc.out)
			if diff := cmp.Diff(tc.wantErr, errText(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("parseHey (-want +got):\n%s", diff)
			}
		})
	}
}

// wrkOutput is Debian wrk 4.1.0's output.
const wrkOutput = `Running 4s test @ http://127.0.0.1:18080/get
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.38ms    4.79ms  45.99ms   92.63%
    Req/Sec    14.48k     6.23k   33.68k    72.50%
  57569 requests in 4.00s, 10.32MB read
Requests/sec:  14382.73
Transfer/sec:      2.58MB
`

func TestParseWrk(t *testing.T) {
	for _, tc := range []struct {
		name    string
		out     string
		want    float64
		wantErr string
	}{
		{name: "summary", out: wrkOutput, want: 14382.73},
		{
			name:    "socket errors",
			out:     "  22022 requests in 4.10s, 3.95MB read\n  Socket errors: connect 0, read 16, write 82830, timeout 0\nRequests/sec:   5372.12\n",
			wantErr: "wrk saw errors: Socket errors: connect 0, read 16, write 82830, timeout 0",
		},
		{
			name:    "other statuses",
			out:     "  100 requests in 1.00s, 1MB read\n  Non-2xx or 3xx responses: 100\nRequests/sec:   100.00\n",
			wantErr: "wrk saw errors: Non-2xx or 3xx responses: 100",
		},
		{name: "no rate", out: "unable to connect to 127.0.0.1:1 Connection refused\n", wantErr: "wrk printed no Requests/sec line:\nunable to connect to 127.0.0.1:1 Connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWrk(tc.out)
			if diff := cmp.Diff(tc.wantErr, errText(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseWrk (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseGhz(t *testing.T) {
	report := `{"count":20000,"total":2000000000,"rps":9876.5,"errorDistribution":null,
"latencyDistribution":[{"percentage":50,"latency":1000000},{"percentage":99,"latency":6540000}]}`
	for _, tc := range []struct {
		name    string
		out     string
		want    int64
		wantRes GhzResult
		wantErr string
	}{
		{name: "by count", out: report, want: 20000, wantRes: GhzResult{Count: 20000, RPS: 9876.5, P99: 6540 * time.Microsecond}},
		{name: "by duration: any count", out: report, wantRes: GhzResult{Count: 20000, RPS: 9876.5, P99: 6540 * time.Microsecond}},
		{name: "another count", out: report, want: 100, wantErr: "ghz made 20000 calls, want 100"},
		{
			name:    "errors",
			out:     `{"count":10,"rps":5,"errorDistribution":{"rpc error: code = Unavailable":10}}`,
			wantErr: "ghz made 10 calls with errors map[rpc error: code = Unavailable:10]",
		},
		{name: "no calls", out: `{"count":0,"rps":0}`, wantErr: "ghz made no calls"},
		{name: "not JSON", out: "Error: open x.proto: no such file", wantErr: "ghz's JSON report: invalid character 'E' looking for beginning of value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseGhz([]byte(tc.out), tc.want)
			if diff := cmp.Diff(tc.wantErr, errText(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRes, got); diff != "" {
				t.Errorf("parseGhz (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStallImplied(t *testing.T) {
	for _, tc := range []struct {
		name         string
		every, stall time.Duration
		q            float64
		want         time.Duration
		wantErr      string
	}{
		{name: "the suite's: 1s every 5s, p99", every: 5 * time.Second, stall: time.Second, q: 99, want: 950 * time.Millisecond},
		{name: "p90", every: 5 * time.Second, stall: time.Second, q: 90, want: 500 * time.Millisecond},
		{name: "a tenth of the time stalled", every: 10 * time.Second, stall: time.Second, q: 99, want: 900 * time.Millisecond},
		{name: "always stalled", every: time.Second, stall: time.Second, q: 99, want: 990 * time.Millisecond},
		{
			name: "the stall is inside the tail", every: 100 * time.Second, stall: time.Second, q: 99,
			wantErr: "a stall of 1s every 1m40s covers 1% of the time, not more than the 1% above p99: p99 is the service time",
		},
		{name: "no stall", every: 5 * time.Second, q: 99, wantErr: "stall 0s every 5s: want 0 < stall <= every"},
		{name: "stall longer than its period", every: time.Second, stall: 2 * time.Second, q: 99, wantErr: "stall 2s every 1s: want 0 < stall <= every"},
		{name: "percentile 100", every: 5 * time.Second, stall: time.Second, q: 100, wantErr: "percentile 100: want 0 < q < 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stallImplied(tc.every, tc.stall, tc.q)
			if diff := cmp.Diff(tc.wantErr, errText(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			// Float arithmetic: within a microsecond.
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b time.Duration) bool {
				return (a - b).Abs() < time.Microsecond
			})); diff != "" {
				t.Errorf("stallImplied (-want +got):\n%s", diff)
			}
		})
	}
}

// benchOutput is go test -bench Decision's output.
const benchOutput = `goos: linux
goarch: amd64
pkg: github.com/autox-tekton/autox/internal/interceptor
cpu: Intel(R) Xeon(R) CPU
BenchmarkDecision/same-version/serial-2         	   20000	     61234 ns/op	     16330 decisions/s	         0.2100 p99-ms
BenchmarkDecision/new-version/parallel-2        	   20000	     41000 ns/op	         0.9000 p99-ms	     24390 decisions/s
PASS
ok  	github.com/autox-tekton/autox/internal/interceptor	9.123s
`

func TestParseDecisions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		out     string
		want    []Decision
		wantErr string
	}{
		{
			name: "two sub-benchmarks, metrics in any order",
			out:  benchOutput,
			want: []Decision{
				{Name: "BenchmarkDecision/same-version/serial", PerSecond: 16330, P99Millisecs: 0.21},
				{Name: "BenchmarkDecision/new-version/parallel", PerSecond: 24390, P99Millisecs: 0.9},
			},
		},
		{
			name:    "failed",
			out:     "--- FAIL: BenchmarkDecision/same-version/serial\n    bench_test.go:67: HTTP 500\nFAIL\n",
			wantErr: "go test -bench Decision failed:\n--- FAIL: BenchmarkDecision/same-version/serial\n    bench_test.go:67: HTTP 500\nFAIL",
		},
		{
			name:    "a metric missing",
			out:     "BenchmarkDecision/x-2 \t 20000\t 61234 ns/op\t 16330 decisions/s\n",
			wantErr: `benchmark line without decisions/s and p99-ms: "BenchmarkDecision/x-2 \t 20000\t 61234 ns/op\t 16330 decisions/s"`,
		},
		{name: "no benchmark", out: "PASS\n", wantErr: "go test -bench Decision printed no Benchmark line:\nPASS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDecisions(tc.out)
			if diff := cmp.Diff(tc.wantErr, errText(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseDecisions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLabelRow(t *testing.T) {
	modified := time.Date(2026, 11, 27, 11, 12, 0, 0, time.UTC)
	line := func(median, maxSec string) string {
		return "    trigger_test.go:624: e2e: label to PipelineRun created, 10 changes: median " + median + "s, max " + maxSec + "s (each: [40ms])\n"
	}
	for _, tc := range []struct {
		name string
		log  string
		want Row
	}{
		{
			name: "the last line of the log",
			log:  "=== RUN   TestTriggerLatency\n" + line("0.900", "1.500") + line("0.162", "0.335") + "--- PASS: TestTriggerLatency (16.20s)\n",
			want: Row{
				Name: labelName, Ours: &Figure{"e2e", 0.162, "s"}, Peer: &Figure{"goal", 0.5, "s"}, Ratio: ptr(0.324), Goal: AtMost(1), Verdict: Pass,
				Notes: []string{"not measured by this run: from e2e.log, written 2026-11-27 11:12 UTC by make e2e (TestTriggerLatency, 10 label changes, max 0.335s)"},
			},
		},
		{
			name: "slower than the goal",
			log:  line("0.750", "1.000"),
			want: Row{
				Name: labelName, Ours: &Figure{"e2e", 0.75, "s"}, Peer: &Figure{"goal", 0.5, "s"}, Ratio: ptr(1.5), Goal: AtMost(1), Verdict: Miss,
				Notes: []string{"not measured by this run: from e2e.log, written 2026-11-27 11:12 UTC by make e2e (TestTriggerLatency, 10 label changes, max 1.000s)"},
			},
		},
		{
			name: "a log without the test",
			log:  "--- PASS: TestWalkthrough (100s)\n",
			want: Row{Name: labelName, Goal: AtMost(1), Verdict: NotMeasured,
				Notes: []string{`not measured in this run: make e2e prints it (e2e.log has no "e2e: label to PipelineRun created" line)`}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := labelRow(tc.log, "e2e.log", modified)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("labelRow (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLabelLatencyWithoutLog(t *testing.T) {
	s := &suite{e2eLog: t.TempDir() + "/e2e.log"}
	got := s.labelLatency()
	want := Row{Name: labelName, Goal: AtMost(1), Verdict: NotMeasured,
		Notes: []string{"not measured in this run: make e2e prints it (no " + s.e2eLog + ")"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labelLatency (-want +got):\n%s", diff)
	}
}

func TestDecisionRows(t *testing.T) {
	got := decisionRows([]Decision{{Name: "BenchmarkDecision/same-version/serial", PerSecond: 4000, P99Millisecs: 0.5}})
	want := []Row{
		{Name: "interceptor decisions/s, same-version/serial", Ours: &Figure{"interceptor", 4000, "decisions/s"}, Peer: &Figure{"goal", 5000, "decisions/s"}, Ratio: ptr(0.8), Goal: AtLeast(1), Verdict: Miss},
		{Name: "interceptor p99, same-version/serial", Ours: &Figure{"interceptor", 0.5, "ms"}, Peer: &Figure{"goal", 5, "ms"}, Ratio: ptr(0.1), Goal: AtMost(1), Verdict: Pass},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("decisionRows (-want +got):\n%s", diff)
	}
}

func TestGoal(t *testing.T) {
	for _, tc := range []struct {
		goal  Goal
		ratio float64
		met   bool
		text  string
	}{
		{AtLeast(0.95), 0.95, true, ">= 0.95"},
		{AtLeast(0.95), 0.9499, false, ">= 0.95"},
		{AtMost(1), 1.2, false, "<= 1.00"},
		{Within(0.9, 1.1), 1.1, true, "0.90..1.10"},
		{Within(0.9, 1.1), 0.008, false, "0.90..1.10"},
		{Goal{}, 123, true, "-"},
	} {
		got := []any{tc.goal.Met(tc.ratio), tc.goal.String()}
		if diff := cmp.Diff([]any{tc.met, tc.text}, got); diff != "" {
			t.Errorf("%s with ratio %g: Met, String (-want +got):\n%s", tc.text, tc.ratio, diff)
		}
	}
}

// report is a report with every kind of row.
func report() Report {
	fixed := measured("http p99 at 200 requests/s", Figure{"cmd/http", 0.00722, "s"}, Figure{"stall-implied", 0.95, "s"}, Within(0.9, 1.1), "service time left out")
	fixed.Beside = []Figure{{"hey p99", 0.0122, "s"}}
	return NewReport(time.Date(2026, 11, 27, 13, 5, 29, 0, time.FixedZone("CET", 3600)),
		Machine{CPU: "Intel(R) Xeon(R) Processor", Vendor: "GenuineIntel", Family: 6, Model: 143, CPUs: 2, Go: "go1.26.8"}, "0", "1", []Row{
			measured("http vs hey, -n 20000 -c 16", Figure{"cmd/http", 7502.4, "requests/s"}, Figure{"hey", 7480, "requests/s"}, AtLeast(0.95)),
			fixed,
			failed("grpc vs ghz, -z 4s -c 16", AtLeast(0.95), fmt.Errorf("ghz made 10 calls with errors")),
			{Name: "label to PipelineRun, median (e2e)", Goal: AtMost(1), Verdict: NotMeasured, Notes: []string{"not measured in this run: make e2e prints it"}},
		})
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := report().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := `#  row                                 ours                      peer                  ratio  goal        verdict
1  http vs hey, -n 20000 -c 16         cmd/http 7502 requests/s  hey 7480 requests/s   1.003  >= 0.95     pass
2  http p99 at 200 requests/s          cmd/http 0.00722 s        stall-implied 0.95 s  0.008  0.90..1.10  miss
3  grpc vs ghz, -z 4s -c 16            -                         -                     -      >= 0.95     error
4  label to PipelineRun, median (e2e)  -                         -                     -      <= 1.00     not measured

[2] beside: hey p99 0.0122 s, ratio 0.013
[2] service time left out
[3] ghz made 10 calls with errors
[4] not measured in this run: make e2e prints it
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteTable (-want +got):\n%s", diff)
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	rep := report()
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	// The rows read back as they were, and the date is UTC.
	var got Report
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if diff := cmp.Diff(rep, got); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
	want := `{
  "date": "2026-11-27T12:05:29Z",
  "serverCore": "0",
  "clientCore": "1",
  "machine": {
    "cpu": "Intel(R) Xeon(R) Processor",
    "vendor": "GenuineIntel",
    "family": 6,
    "model": 143,
    "cpus": 2,
    "go": "go1.26.8"
  },
  "rows": [
    {
      "name": "http vs hey, -n 20000 -c 16",
      "ours": {
        "label": "cmd/http",
        "value": 7502.4,
        "unit": "requests/s"
      },
      "peer": {
        "label": "hey",
        "value": 7480,
        "unit": "requests/s"
      },
      "ratio": 1.002994652406417,
      "goal": {
        "min": 0.95
      },
      "verdict": "pass"
    },`
	if diff := cmp.Diff(want, b.String()[:len(want)]); diff != "" {
		t.Errorf("WriteJSON's first row (-want +got):\n%s", diff)
	}
	if !rep.Failed() {
		t.Error("Failed() is false with a row in error")
	}
	rep.Rows = rep.Rows[:2]
	if rep.Failed() {
		t.Error("Failed() is true without a row in error")
	}
}

func TestCounterCountsArrivals(t *testing.T) {
	c := &counter{next: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })}
	for range 3 {
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/get", nil))
		if rec.Code != http.StatusTeapot {
			t.Fatalf("/get answered %d, want the next handler's %d", rec.Code, http.StatusTeapot)
		}
	}
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/arrivals", nil))
	var a Arrivals
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if a.Count != 3 || a.FirstUnixNano == 0 || a.LastUnixNano < a.FirstUnixNano {
		t.Errorf("arrivals %+v, want 3 with first <= last", a)
	}
}

func TestArrivalsRate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a       Arrivals
		want    float64
		wantErr string
	}{
		{name: "100 over 9.9s is 10/s", a: Arrivals{Count: 100, FirstUnixNano: 1e9, LastUnixNano: 10.9e9}, want: 10},
		{name: "one arrival", a: Arrivals{Count: 1, FirstUnixNano: 5, LastUnixNano: 5}, wantErr: "the server saw 1 requests over 0s; a rate needs at least 2 over some time"},
		{name: "none", wantErr: "the server saw 0 requests over 0s; a rate needs at least 2 over some time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.a.Rate()
			if diff := cmp.Diff(tc.wantErr, errText(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("Rate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWrkDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{4 * time.Second: "4s", 1500 * time.Millisecond: "2s", 100 * time.Millisecond: "1s", time.Minute: "60s"} {
		if diff := cmp.Diff(want, wrkDuration(d)); diff != "" {
			t.Errorf("wrkDuration(%s) (-want +got):\n%s", d, diff)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-only", "throughput,speed"}, "bench: -only: \"speed\" is not a section; write some of throughput,workers,cpu,fixed-rate,rate,memory,allocs,interceptor,e2e, comma-separated\n"},
		{[]string{"-rounds", "0"}, "bench: -n 20000 -c 16 -rounds 0 -z 4s: want -n, -c and -rounds of at least 1 and -z of at least 1s\n"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), tc.args, &stdout, &stderr)
		if diff := cmp.Diff([]any{2, tc.want, ""}, []any{code, stderr.String(), stdout.String()}); diff != "" {
			t.Errorf("bench %v: exit, stderr, stdout (-want +got):\n%s", tc.args, diff)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func ptr(v float64) *float64 { return &v }

func TestServerAndClientProcesses(t *testing.T) {
	ctx := t.Context()
	srv, err := startServer(ctx, "0", "sh", "-c", "echo 'x listening on 127.0.0.1:12345'; exec sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("127.0.0.1:12345", srv.addr); diff != "" {
		t.Errorf("address (-want +got):\n%s", diff)
	}
	if err := srv.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	if srv.cmd.ProcessState == nil {
		t.Error("the server was not waited for")
	}

	_, err = startServer(ctx, "0", "sh", "-c", "echo starting; exit 3")
	if diff := cmp.Diff("sh -c echo starting; exit 3 exited before it listened:\nstarting\n", errText(err)); diff != "" {
		t.Errorf("a server that exits at once (-want +got):\n%s", diff)
	}

	r, err := runClient(ctx, "1", time.Minute, "sh", "-c", "echo out; echo err >&2")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"out\n", "err\n"}, []string{r.stdout, r.stderr}); diff != "" {
		t.Errorf("client output (-want +got):\n%s", diff)
	}
	if r.peakRSS <= 0 {
		t.Errorf("peak RSS %d, want more than 0", r.peakRSS)
	}
	_, err = runClient(ctx, "1", time.Minute, "sh", "-c", "echo no; exit 2")
	if diff := cmp.Diff("sh -c echo no; exit 2: exit status 2\nno", errText(err)); diff != "" {
		t.Errorf("a client that fails (-want +got):\n%s", diff)
	}
	start := time.Now()
	_, err = runClient(ctx, "1", 200*time.Millisecond, "sh", "-c", "exec sleep 60")
	if diff := cmp.Diff("sh -c exec sleep 60: signal: terminated (timeout 200ms)\n", errText(err)); diff != "" {
		t.Errorf("a client past its timeout (-want +got):\n%s", diff)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the client past its timeout ended after %s", took)
	}
}

func TestVerdicts(t *testing.T) {
	ours, peer := Figure{"cmd/http", 15000, "requests/s"}, Figure{"wrk", 25000, "requests/s"}
	var got []string
	for _, g := range []Goal{AtLeast(0.95), AtLeast(0.5), {}} {
		got = append(got, measured("http vs wrk", ours, peer, g).Verdict)
	}
	if diff := cmp.Diff([]string{Miss, Pass, Info}, got); diff != "" {
		t.Errorf("verdicts of 0.6 against >= 0.95, >= 0.5 and no goal (-want +got):\n%s", diff)
	}
}

// TestValgrindCannot runs valgrind on a Go program it cannot run on this
// CPU (one AVX-512 instruction: valgrind decodes none) and on one it can,
// and reads their real output.
func TestValgrindCannot(t *testing.T) {
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Fatalf("valgrind is not installed (make deps installs it): %v", err)
	}
	dir := t.TempDir()
	build := func(name, pkg string) string {
		out := filepath.Join(dir, name)
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
		return out
	}
	avx512 := build("avx512", "./testdata/avx512")
	if out, err := exec.Command(avx512).CombinedOutput(); err != nil {
		t.Skipf("this CPU has no AVX-512, so the program cannot show valgrind's limit: %v\n%s", err, out)
	}
	under := func(path string) string {
		cmd := exec.Command("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", path)
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Run()
		return stderr.String()
	}
	why, ok := valgrindCannot(under(avx512))
	want := "its decoder does not know the instruction 0x62 0xF1 0x7D 0x48 0xEF 0xC0 at main.xorZ0.abi0 (avx512_amd64.s:8) (SIGILL)"
	if !ok || why != want {
		t.Errorf("valgrindCannot(the AVX-512 program's output) = %q, %v; want %q, true", why, ok, want)
	}
	if why, ok := valgrindCannot(under(build("fine", "./testdata/fine"))); ok {
		t.Errorf("valgrindCannot(a program that ran) = %q, true; want false", why)
	}
	for _, tc := range []struct{ stderr, want string }{
		{"SIGSEGV: segmentation violation\nPC=0x40 m=0\n", "it died of SIGSEGV: segmentation violation"},
		{"==1== Process terminating with default action of signal 11 (SIGSEGV)\n", "it died of SIGSEGV"},
		{"valgrind: the 'impossible' happened:\n", "it died of valgrind: the 'impossible' happened:"},
	} {
		if why, ok := valgrindCannot(tc.stderr); !ok || why != tc.want {
			t.Errorf("valgrindCannot(%q) = %q, %v; want %q, true", tc.stderr, why, ok, tc.want)
		}
	}
}

func TestMachine(t *testing.T) {
	cpuinfo := `processor	: 0
vendor_id	: AuthenticAMD
cpu family	: 26
model		: 2
model name	: AMD EPYC 9R45
cache size	: 1024 KB

processor	: 1
vendor_id	: AuthenticAMD
cpu family	: 26
model		: 2
model name	: AMD EPYC 9R45
`
	got := parseCPUInfo(strings.NewReader(cpuinfo))
	want := Machine{CPU: "AMD EPYC 9R45", Vendor: "AuthenticAMD", Family: 26, Model: 2, CPUs: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseCPUInfo (-want +got):\n%s", diff)
	}
	got.LastLevelCache, got.Kernel, got.Go, got.Valgrind = "L3 32 MiB", "6.8.0", "go1.26.8", "valgrind-3.19.0"
	if s, want := got.String(), "AMD EPYC 9R45 (AuthenticAMD family 26 model 2), 2 CPUs, L3 32 MiB, Linux 6.8.0, go1.26.8, valgrind-3.19.0"; s != want {
		t.Errorf("String() = %q, want %q", s, want)
	}
	if got := parseCPUInfo(strings.NewReader("")); got.CPU != "unknown CPU" || got.CPUs != 0 {
		t.Errorf("parseCPUInfo(empty) = %+v, want an unknown CPU", got)
	}
	// This machine: the measured programs' Go version comes from the
	// binary, and the CPU from /proc/cpuinfo.
	bin := t.TempDir()
	if b, err := exec.Command("go", "build", "-o", filepath.Join(bin, "http"), "./testdata/fine").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	m := thisMachine(bin)
	if m.Go != runtime.Version() || m.CPUs < 1 || m.CPU == "unknown CPU" {
		t.Errorf("thisMachine = %+v, want this Go (%s), a CPU model and at least one CPU", m, runtime.Version())
	}
}

// TestCPURowWhereValgrindCannotRun runs the CPU row with a cmd/http that
// valgrind cannot run on this CPU (it runs one AVX-512 instruction, then
// becomes the real cmd/http): the row is "not measured", with the
// instruction and its place in one line, after a second try with Go's
// CPU features off.
func TestCPURowWhereValgrindCannotRun(t *testing.T) {
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Fatalf("valgrind is not installed (make deps installs it): %v", err)
	}
	bin := t.TempDir()
	for name, pkg := range map[string]string{
		"http-real": "github.com/autox-tekton/autox/cmd/http", "http": "./testdata/avx512",
		"httpbin": "github.com/autox-tekton/autox/test/apps/httpbin", "hey": "github.com/rakyll/hey",
	} {
		if b, err := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	if out, err := exec.Command(filepath.Join(bin, "http")).CombinedOutput(); err != nil {
		t.Skipf("this CPU has no AVX-512, so the program cannot show valgrind's limit: %v\n%s", err, out)
	}
	t.Setenv("AUTOX_TEST_EXEC", filepath.Join(bin, "http-real"))
	var log bytes.Buffer
	s := &suite{bin: bin, c: 4, serverCore: "0", clientCore: "1", log: &log}
	got := s.httpInstructions(t.Context())
	want := Row{Name: "http CPU instructions/request, -c 4 (callgrind)", Goal: cpuGoal(), Verdict: NotMeasured, Notes: []string{
		"valgrind cannot run cmd/http on this CPU: its decoder does not know the instruction 0x62 0xF1 0x7D 0x48 0xEF 0xC0 at main.xorZ0.abi0 (avx512_amd64.s:8) (SIGILL), with Go's CPU features on or off"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the CPU row (-want +got):\n%s\nprogress:\n%s", diff, log.String())
	}
}

func TestPickCores(t *testing.T) {
	for _, tc := range []struct {
		cpus                 []int
		server, client, note string
		wantErr              bool
	}{
		{cpus: []int{0, 1}, server: "0", client: "1"},
		{cpus: []int{2, 3, 4}, server: "2", client: "3"},
		{cpus: []int{5}, server: "5", client: "5", note: "one CPU (5): servers and load generators share it, so the ratios compare tools on half a core each"},
		{cpus: nil, wantErr: true},
	} {
		server, client, note, err := pickCores(tc.cpus)
		if (err != nil) != tc.wantErr || server != tc.server || client != tc.client || note != tc.note {
			t.Errorf("pickCores(%v) = %q, %q, %q, %v; want %q, %q, %q, error %v", tc.cpus, server, client, note, err, tc.server, tc.client, tc.note, tc.wantErr)
		}
	}
	if cpus := allowedCPUs(); len(cpus) < 1 || len(cpus) > runtime.NumCPU() {
		t.Errorf("allowedCPUs() = %v, want 1 to %d CPUs", cpus, runtime.NumCPU())
	}
}
