// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The pure part of the suite: reading the peers' outputs, and the
// latency a stalling server implies.

var (
	heyRate = regexp.MustCompile(`(?m)^\s*Requests/sec:\s+([0-9.]+)\s*$`)
	// hey's template writes "%%" literally: "99%% in 0.0123 secs".
	heyP99    = regexp.MustCompile(`(?m)^\s*99%%? in ([0-9.]+) secs\s*$`)
	heyStatus = regexp.MustCompile(`(?m)^\s*\[(\d+)\]\s+(\d+) responses\s*$`)
	wrkRate   = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)\s*$`)
	// wrk prints these lines only when there were such errors.
	wrkErrors  = regexp.MustCompile(`(?m)^\s*(Socket errors: .*|Non-2xx or 3xx responses: .*)$`)
	e2eLatency = regexp.MustCompile(`e2e: label to PipelineRun created, (\d+) changes: median ([0-9.]+)s, max ([0-9.]+)s`)
)

// HeyResult is what the suite reads from hey's summary.
type HeyResult struct {
	// RPS is its Requests/sec line.
	RPS float64
	// P99 is its "99% in X secs" line; 0 when it printed none.
	P99 time.Duration
	// Responses counts responses by status code.
	Responses map[int]int64
}

// parseHey reads hey's default summary. It is an error when hey printed
// no Requests/sec, saw errors, or got a status other than 200.
func parseHey(out string) (HeyResult, error) {
	if strings.Contains(out, "Error distribution:") {
		return HeyResult{}, fmt.Errorf("hey saw errors:\n%s", tail(out, 20))
	}
	m := heyRate.FindStringSubmatch(out)
	if m == nil {
		return HeyResult{}, fmt.Errorf("hey printed no Requests/sec line:\n%s", tail(out, 20))
	}
	res := HeyResult{Responses: map[int]int64{}}
	var err error
	if res.RPS, err = strconv.ParseFloat(m[1], 64); err != nil {
		return HeyResult{}, fmt.Errorf("hey's Requests/sec %q: %v", m[1], err)
	}
	for _, s := range heyStatus.FindAllStringSubmatch(out, -1) {
		code, _ := strconv.Atoi(s[1])
		n, _ := strconv.ParseInt(s[2], 10, 64)
		res.Responses[code] += n
		if code != 200 {
			return HeyResult{}, fmt.Errorf("hey got %d responses with status %d, want 200 only", n, code)
		}
	}
	if len(res.Responses) == 0 {
		return HeyResult{}, fmt.Errorf("hey printed no responses:\n%s", tail(out, 20))
	}
	if p := heyP99.FindStringSubmatch(out); p != nil {
		sec, err := strconv.ParseFloat(p[1], 64)
		if err != nil {
			return HeyResult{}, fmt.Errorf("hey's p99 %q: %v", p[1], err)
		}
		res.P99 = seconds(sec)
	}
	return res, nil
}

// parseWrk reads wrk's Requests/sec. It is an error when wrk reports
// socket errors or responses other than 2xx and 3xx.
func parseWrk(out string) (float64, error) {
	if m := wrkErrors.FindAllString(out, -1); m != nil {
		return 0, fmt.Errorf("wrk saw errors: %s", strings.Join(trimAll(m), "; "))
	}
	m := wrkRate.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk printed no Requests/sec line:\n%s", tail(out, 20))
	}
	rps, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("wrk's Requests/sec %q: %v", m[1], err)
	}
	return rps, nil
}

// GhzResult is what the suite reads from ghz's JSON report (-O json).
type GhzResult struct {
	Count int64
	RPS   float64
	// P99 is the latencyDistribution's 99; 0 when absent.
	P99 time.Duration
}

// parseGhz reads ghz's JSON report. It is an error when a call failed or
// when want > 0 and ghz made another number of calls.
func parseGhz(out []byte, want int64) (GhzResult, error) {
	var rep struct {
		Count     int64          `json:"count"`
		Rps       float64        `json:"rps"`
		ErrorDist map[string]int `json:"errorDistribution"`
		Latency   []struct {
			Percentage int           `json:"percentage"`
			Latency    time.Duration `json:"latency"`
		} `json:"latencyDistribution"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return GhzResult{}, fmt.Errorf("ghz's JSON report: %v", err)
	}
	if len(rep.ErrorDist) > 0 {
		return GhzResult{}, fmt.Errorf("ghz made %d calls with errors %v", rep.Count, rep.ErrorDist)
	}
	if want > 0 && rep.Count != want {
		return GhzResult{}, fmt.Errorf("ghz made %d calls, want %d", rep.Count, want)
	}
	if rep.Count == 0 {
		return GhzResult{}, errors.New("ghz made no calls")
	}
	res := GhzResult{Count: rep.Count, RPS: rep.Rps}
	for _, l := range rep.Latency {
		if l.Percentage == 99 {
			res.P99 = l.Latency
		}
	}
	return res, nil
}

// stallImplied is the q-th percentile (q in percent, e.g. 99) of latency
// measured from the intended send time, at a fixed rate, on a server
// that stops answering for stall out of every every (service time left
// out). A fraction f = stall/every of the intended send times fall in a
// stall, and one intended t into it waits stall - t; so the fraction of
// all requests that wait more than w is f * (1 - w/stall), and the q-th
// percentile is stall * (1 - (1 - q/100) / f). It exists only when the
// stall covers more of the time than the tail above q does.
func stallImplied(every, stall time.Duration, q float64) (time.Duration, error) {
	if every <= 0 || stall <= 0 || stall > every {
		return 0, fmt.Errorf("stall %s every %s: want 0 < stall <= every", stall, every)
	}
	if q <= 0 || q >= 100 {
		return 0, fmt.Errorf("percentile %g: want 0 < q < 100", q)
	}
	f := float64(stall) / float64(every)
	above := 1 - q/100
	if f <= above {
		return 0, fmt.Errorf("a stall of %s every %s covers %.3g%% of the time, not more than the %.3g%% above p%g: p%g is the service time", stall, every, f*100, above*100, q, q)
	}
	return time.Duration(float64(stall) * (1 - above/f)), nil
}

// Decision is one sub-benchmark of the interceptor's BenchmarkDecision.
type Decision struct {
	// Name without the -GOMAXPROCS suffix: BenchmarkDecision/same-version/serial.
	Name         string
	PerSecond    float64
	P99Millisecs float64
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseDecisions reads `go test -bench Decision` output: each Benchmark
// line with its decisions/s and p99-ms metrics. A FAIL or panic line, or
// no Benchmark line, is an error.
func parseDecisions(out string) ([]Decision, error) {
	var ds []Decision
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) > 0 && (f[0] == "FAIL" || strings.HasPrefix(f[0], "panic:") || f[0] == "---" && len(f) > 1 && f[1] == "FAIL:") {
			return nil, fmt.Errorf("go test -bench Decision failed:\n%s", tail(out, 30))
		}
		if len(f) == 0 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		d := Decision{Name: procsSuffix.ReplaceAllString(f[0], "")}
		var got int
		for i := 1; i+1 < len(f); i++ {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "decisions/s":
				d.PerSecond, got = v, got+1
			case "p99-ms":
				d.P99Millisecs, got = v, got+1
			}
		}
		if got != 2 {
			return nil, fmt.Errorf("benchmark line without decisions/s and p99-ms: %q", strings.TrimSpace(line))
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("go test -bench Decision printed no Benchmark line:\n%s", tail(out, 30))
	}
	return ds, nil
}

// E2ELatency is TestTriggerLatency's line in the e2e log.
type E2ELatency struct {
	Changes     int
	Median, Max time.Duration
}

// parseE2ELatency finds the last "e2e: label to PipelineRun created"
// line of an e2e log; ok is false when there is none.
func parseE2ELatency(log string) (l E2ELatency, ok bool) {
	all := e2eLatency.FindAllStringSubmatch(log, -1)
	if all == nil {
		return E2ELatency{}, false
	}
	m := all[len(all)-1]
	n, err1 := strconv.Atoi(m[1])
	median, err2 := strconv.ParseFloat(m[2], 64)
	maxSec, err3 := strconv.ParseFloat(m[3], 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return E2ELatency{}, false
	}
	return E2ELatency{Changes: n, Median: seconds(median), Max: seconds(maxSec)}, true
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return out
}
