// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
)

const seedHTTP = `
tasks: [http, assess]
http:
  numRequests: 200
  endpoints:
    get: {url: http://127.0.0.1:8080/get}
    getAnything: {url: http://127.0.0.1:8080/anything}
    post: {url: http://127.0.0.1:8080/post, payloadStr: hello}
assess:
  SLOs:
    upper:
      http-get/error-count: 0
      http-get/latency-mean: 50
`

func TestParseSeedExperiment(t *testing.T) {
	e, err := Parse([]byte(seedHTTP), "seed.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	type short struct {
		Prefix, Method, URL string
		N                   int64
		QPS                 float64
		Conns               int
		Payload             string
		Timeout             time.Duration
		Percentiles         []float64
	}
	var got []short
	for _, ep := range e.HTTPEndpoints() {
		got = append(got, short{ep.MetricPrefix(), ep.Method, ep.URL, ep.Count, ep.Rate, ep.Workers, string(ep.Payload), ep.Timeout, ep.Percentiles})
	}
	pct := []float64{50, 75, 90, 95, 99, 99.9}
	want := []short{
		{"http-get", "GET", "http://127.0.0.1:8080/get", 200, 8, 4, "", 20 * time.Second, pct},
		{"http-getAnything", "GET", "http://127.0.0.1:8080/anything", 200, 8, 4, "", 20 * time.Second, pct},
		{"http-post", "POST", "http://127.0.0.1:8080/post", 200, 8, 4, "hello", 20 * time.Second, pct},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{"http-get/error-count": 0, "http-get/latency-mean": 50}, e.Assess.SLOs.Upper); diff != "" {
		t.Errorf("SLOs (-want +got):\n%s", diff)
	}
}

func TestMergeTopLevelIntoEndpoints(t *testing.T) {
	e, err := Parse([]byte(`
tasks: [http]
http:
  url: http://127.0.0.1:1/top
  duration: 10s
  qps: 50
  connections: 2
  headers: {A: top, B: top}
  percentiles: [99.99]
  errorRanges: [{lower: 500}]
  warmupNumRequests: 10
  endpoints:
    inherit: {}
    own:
      url: http://127.0.0.1:1/own
      numRequests: 30
      qps: unlimited
      headers: {B: own}
      percentiles: [12.5]
      errorRanges: [{lower: 400, upper: 499}]
      warmupDuration: 2s
      timeout: 3s
`), "t.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	eps := e.HTTPEndpoints()
	type short struct {
		URL               string
		N                 int64
		D                 time.Duration
		QPS               float64
		Conns             int
		Headers           map[string]string
		Percentiles       []float64
		ErrorOn404, On503 bool
		WarmN             int64
		WarmD, Timeout    time.Duration
	}
	var got []short
	for _, ep := range eps {
		got = append(got, short{ep.URL, ep.Count, ep.Duration, ep.Rate, ep.Workers, ep.Headers, ep.Percentiles, ep.IsError(404), ep.IsError(503), ep.WarmupCount, ep.WarmupDuration, ep.Timeout})
	}
	want := []short{
		{"http://127.0.0.1:1/top", 0, 10 * time.Second, 50, 2, map[string]string{"A": "top", "B": "top"}, []float64{50, 75, 90, 95, 99, 99.9, 99.99}, false, true, 10, 0, 20 * time.Second},
		{"http://127.0.0.1:1/own", 30, 0, 0, 2, map[string]string{"A": "top", "B": "own"}, []float64{12.5, 50, 75, 90, 95, 99, 99.9, 99.99}, true, false, 0, 2 * time.Second, 3 * time.Second},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{{
		name: "invalid YAML",
		yaml: "tasks: [http\nhttp: {",
		want: []string{`x.yaml: invalid YAML: line 1: did not find expected ',' or ']'; fix the syntax at that line`},
	}, {
		name: "empty file",
		yaml: "",
		want: []string{"x.yaml: the experiment is empty; write at least tasks: [http, assess] and an http section"},
	}, {
		name: "typo in a key",
		yaml: "tasks: [http]\nhttp:\n  url: http://a/\n  numRequest: 10\n",
		want: []string{`x.yaml: http.numRequest: unknown key; did you mean "numRequests"?`},
	}, {
		name: "typo in an endpoint key",
		yaml: "tasks: [http]\nhttp:\n  endpoints:\n    get: {url: http://a/, payloadstring: x}\n",
		want: []string{`x.yaml: http.endpoints.get.payloadstring: unknown key; did you mean "payloadStr"?`},
	}, {
		name: "url not http",
		yaml: "tasks: [http]\nhttp:\n  endpoints:\n    get: {url: htp://x}\n",
		want: []string{`x.yaml: http.endpoints.get.url: "htp://x" is not an http(s) URL; write http://host[:port]/path`},
	}, {
		name: "no url",
		yaml: "tasks: [http]\nhttp:\n  numRequests: 5\n",
		want: []string{"x.yaml: http.url: missing; set http.url, or name endpoints under http.endpoints each with a url"},
	}, {
		name: "zero and negative numbers",
		yaml: "tasks: [http]\nhttp:\n  url: http://a/\n  numRequests: 0\n  connections: -1\n  qps: 0\n",
		want: []string{
			`x.yaml: http.qps: "0" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`,
		},
	}, {
		name: "zero counts after the shape check",
		yaml: "tasks: [http]\nhttp:\n  url: http://a/\n  numRequests: 0\n  connections: -1\n",
		want: []string{
			`x.yaml: http.numRequests: "0" is outside 1..1000000000; write the number of requests to send, e.g. 100`,
			`x.yaml: http.connections: "-1" is outside 1..10000; write the number of parallel connections, e.g. 4`,
		},
	}, {
		name: "negative qps",
		yaml: "tasks: [http]\nhttp: {url: http://a/, qps: -5}\n",
		want: []string{`x.yaml: http.qps: "-5" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`},
	}, {
		name: "qps not a number",
		yaml: "tasks: [http]\nhttp: {url: http://a/, qps: fast}\n",
		want: []string{`x.yaml: http.qps: "fast" is not a rate; write a number of requests per second such as 50, or unlimited`},
	}, {
		name: "numRequests not a number",
		yaml: "tasks: [http]\nhttp: {url: http://a/, numRequests: many}\n",
		want: []string{`x.yaml: http.numRequests: "many" is not a whole number; write e.g. 100`},
	}, {
		name: "bad duration and timeout",
		yaml: "tasks: [http]\nhttp: {url: http://a/, duration: 10 seconds, timeout: 5}\n",
		want: []string{
			`x.yaml: http.duration: "10 seconds" is not a duration; write e.g. 30s or 1m30s`,
			`x.yaml: http.timeout: "5" is not a duration; write e.g. 30s or 1m30s`,
		},
	}, {
		name: "sub-second timeout",
		yaml: "tasks: [http]\nhttp: {url: http://a/, timeout: 500ms}\n",
		want: []string{`x.yaml: http.timeout: "500ms" is outside 1s..1h; write e.g. 20s`},
	}, {
		name: "percentile out of range",
		yaml: "tasks: [http]\nhttp:\n  url: http://a/\n  percentiles: [0, 99.99, 100, 150]\n",
		want: []string{
			`x.yaml: http.percentiles[0]: "0" is outside (0, 100); write a percentile such as 99.9`,
			`x.yaml: http.percentiles[2]: "100" is outside (0, 100); write a percentile such as 99.9`,
			`x.yaml: http.percentiles[3]: "150" is outside (0, 100); write a percentile such as 99.9`,
		},
	}, {
		name: "inherited problem reported once",
		yaml: "tasks: [http]\nhttp:\n  percentiles: [101]\n  endpoints: {a: {url: http://a/}, b: {url: http://b/}}\n",
		want: []string{`x.yaml: http.percentiles[0]: "101" is outside (0, 100); write a percentile such as 99.9`},
	}, {
		name: "SLO limit not a number",
		yaml: "tasks: [http, assess]\nhttp: {url: http://a/}\nassess:\n  SLOs:\n    upper:\n      http/latency-mean: fast\n",
		want: []string{`x.yaml: assess.SLOs.upper.http/latency-mean: "fast" is not a number; write e.g. 50 or 99.9`},
	}, {
		name: "SLO key without slash",
		yaml: "tasks: [http, assess]\nhttp: {url: http://a/}\nassess:\n  SLOs:\n    lower:\n      latency-mean: 5\n",
		want: []string{`x.yaml: assess.SLOs.lower.latency-mean: "latency-mean" is not a metric name; write <task>[-<endpoint>]/<metric>, e.g. http-get/latency-mean`},
	}, {
		name: "unknown task",
		yaml: "tasks: [htp, assess]\n",
		want: []string{"x.yaml: tasks[0]: unknown task \"htp\"; known tasks are ready, http, grpc, assess"},
	}, {
		name: "no tasks",
		yaml: "http: {url: http://a/}\n",
		want: []string{"x.yaml: tasks: missing; list the tasks to run, e.g. tasks: [http, assess]"},
	}, {
		name: "assess not last",
		yaml: "tasks: [assess, http]\nhttp: {url: http://a/}\n",
		want: []string{"x.yaml: tasks[0]: assess must be the last task: it reads what the others measured; move it to the end"},
	}, {
		name: "http task without http section",
		yaml: "tasks: [http]\n",
		want: []string{"x.yaml: http: missing; the tasks list names http, so add an http section with url or endpoints"},
	}, {
		name: "two payloads",
		yaml: "tasks: [http]\nhttp: {url: http://a/, payloadStr: x, payloadFile: y}\n",
		want: []string{"x.yaml: http.payloadStr: set only one of payloadStr, payloadFile and payloadURL; remove the others"},
	}, {
		name: "numRequests and duration",
		yaml: "tasks: [http]\nhttp: {url: http://a/, numRequests: 5, duration: 5s}\n",
		want: []string{"x.yaml: http.numRequests: set either numRequests or duration, not both; remove one"},
	}, {
		name: "wrong kinds",
		yaml: "tasks: http\nhttp: [1]\n",
		want: []string{
			`x.yaml: tasks: "http" is not a list; write [a, b] or one '- item' per line`,
			"x.yaml: http: a list is not a mapping; write http as keys under it",
		},
	}, {
		name: "bad error range",
		yaml: "tasks: [http]\nhttp:\n  url: http://a/\n  errorRanges: [{lower: 500, upper: 400}, {}]\n",
		want: []string{
			"x.yaml: http.errorRanges[0]: lower 500 is above upper 400; swap them",
			"x.yaml: http.errorRanges[1]: empty range; write lower and/or upper status codes, e.g. {lower: 500}",
		},
	}, {
		name: "runner other than job",
		yaml: "tasks: [http]\nrunner: cronjob\nhttp: {url: http://a/}\n",
		want: []string{`x.yaml: runner: "cronjob" is not supported; autox runs each experiment once per version (runner: job), remove the key`},
	}, {
		// Issue 7: rates that passed and then crashed the step.
		name: "qps not finite",
		yaml: "tasks: [http]\nhttp:\n  url: http://a/\n  endpoints:\n    nan: {qps: nan}\n    inf: {qps: inf}\n    yamlNaN: {qps: .nan}\n    yamlInf: {qps: .inf}\n    huge: {qps: 1e400}\n",
		want: []string{
			`x.yaml: http.endpoints.nan.qps: "nan" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`,
			`x.yaml: http.endpoints.inf.qps: "inf" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`,
			`x.yaml: http.endpoints.yamlNaN.qps: ".nan" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`,
			`x.yaml: http.endpoints.yamlInf.qps: ".inf" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`,
			`x.yaml: http.endpoints.huge.qps: "1e400" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`,
		},
	}, {
		name: "qps beyond what hey can pace",
		yaml: "tasks: [http]\nhttp: {url: http://a/, qps: 5000000, connections: 4}\n",
		want: []string{`x.yaml: http.qps: "5000000" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`},
	}, {
		name: "qps too low",
		yaml: "tasks: [http]\nhttp: {url: http://a/, qps: 0.0009}\n",
		want: []string{`x.yaml: http.qps: "0.0009" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`},
	}, {
		name: "http counts, durations and connections out of range",
		yaml: `
tasks: [http]
http:
  url: http://a/
  endpoints:
    many: {numRequests: 1000000001, connections: 10001, warmupNumRequests: 1000000001}
    long: {duration: 25h, timeout: 2h, warmupDuration: 24h1s}
    short: {duration: 999us, warmupDuration: 0s}
    negative: {numRequests: -5, warmupNumRequests: 0, connections: 0}
    slow: {numRequests: 10, timeout: 0s}
`,
		want: []string{
			`x.yaml: http.endpoints.long.duration: "25h" is outside 1ms..24h; write e.g. 30s or 10m`,
			`x.yaml: http.endpoints.long.timeout: "2h" is outside 1s..1h; write e.g. 20s`,
			`x.yaml: http.endpoints.long.warmupDuration: "24h0m1s" is outside 1ms..24h; write e.g. 30s or 10m`,
			`x.yaml: http.endpoints.many.numRequests: "1000000001" is outside 1..1000000000; write the number of requests to send, e.g. 100`,
			`x.yaml: http.endpoints.many.connections: "10001" is outside 1..10000; write the number of parallel connections, e.g. 4`,
			`x.yaml: http.endpoints.many.warmupNumRequests: "1000000001" is outside 1..1000000000; write the number of warmup requests, or remove the key`,
			`x.yaml: http.endpoints.negative.numRequests: "-5" is outside 1..1000000000; write the number of requests to send, e.g. 100`,
			`x.yaml: http.endpoints.negative.connections: "0" is outside 1..10000; write the number of parallel connections, e.g. 4`,
			`x.yaml: http.endpoints.negative.warmupNumRequests: "0" is outside 1..1000000000; write the number of warmup requests, or remove the key`,
			`x.yaml: http.endpoints.short.duration: "999µs" is outside 1ms..24h; write e.g. 30s or 10m`,
			`x.yaml: http.endpoints.short.warmupDuration: "0s" is outside 1ms..24h; write e.g. 30s or 10m`,
			`x.yaml: http.endpoints.slow.timeout: "0s" is outside 1s..1h; write e.g. 20s`,
		},
	}, {
		name: "percentiles not finite",
		yaml: "tasks: [http]\nhttp: {url: http://a/, percentiles: [.nan, .inf, -.inf, 99.99]}\n",
		want: []string{
			`x.yaml: http.percentiles[0]: "NaN" is outside (0, 100); write a percentile such as 99.9`,
			`x.yaml: http.percentiles[1]: "+Inf" is outside (0, 100); write a percentile such as 99.9`,
			`x.yaml: http.percentiles[2]: "-Inf" is outside (0, 100); write a percentile such as 99.9`,
		},
	}, {
		name: "error range codes outside 100..599",
		yaml: "tasks: [http]\nhttp:\n  url: http://a/\n  errorRanges: [{lower: 99}, {upper: 600}, {lower: 700, upper: 650}, {lower: 500, upper: 599}]\n",
		want: []string{
			`x.yaml: http.errorRanges[0].lower: "99" is outside 100..599; write an HTTP status code, e.g. 500`,
			`x.yaml: http.errorRanges[1].upper: "600" is outside 100..599; write an HTTP status code, e.g. 500`,
			`x.yaml: http.errorRanges[2].lower: "700" is outside 100..599; write an HTTP status code, e.g. 500`,
			`x.yaml: http.errorRanges[2].upper: "650" is outside 100..599; write an HTTP status code, e.g. 500`,
		},
	}, {
		name: "SLO limits not finite",
		yaml: "tasks: [http, assess]\nhttp: {url: http://a/}\nassess:\n  SLOs:\n    upper: {http/latency-mean: .nan, http/latency-max: .inf}\n    lower: {http/request-count: -.inf}\n",
		want: []string{
			`x.yaml: assess.SLOs.upper.http/latency-max: "+Inf" is not a finite number; write a limit such as 50 or 99.9`,
			`x.yaml: assess.SLOs.upper.http/latency-mean: "NaN" is not a finite number; write a limit such as 50 or 99.9`,
			`x.yaml: assess.SLOs.lower.http/request-count: "-Inf" is not a finite number; write a limit such as 50 or 99.9`,
		},
	}, {
		name: "ready timeout out of range",
		yaml: "tasks: [ready]\nready: {deploy: a, timeout: 25h}\n",
		want: []string{`x.yaml: ready.timeout: "25h" is outside (0s, 24h]; write e.g. 60s`},
	}, {
		name: "ready timeout zero",
		yaml: "tasks: [ready]\nready: {deploy: a, timeout: 0s}\n",
		want: []string{`x.yaml: ready.timeout: "0s" is outside (0s, 24h]; write e.g. 60s`},
	}, {
		name: "rps not finite or too high",
		yaml: "tasks: [grpc]\ngrpc:\n  host: h:1\n  call: a.B.C\n  endpoints:\n    nan: {rps: nan}\n    inf: {rps: .inf}\n    huge: {rps: 1000001}\n    zero: {rps: 0}\n",
		want: []string{
			`x.yaml: grpc.endpoints.nan.rps: "nan" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`,
			`x.yaml: grpc.endpoints.inf.rps: ".inf" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`,
			`x.yaml: grpc.endpoints.huge.rps: "1000001" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`,
			`x.yaml: grpc.endpoints.zero.rps: "0" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited`,
		},
	}, {
		// Issue 7: this one grew to 23 GB.
		name: "grpc concurrency beyond what a step can run",
		yaml: "tasks: [grpc]\ngrpc: {host: h:1, call: a.B.C, duration: 2s, concurrency: 1000000000}\n",
		want: []string{`x.yaml: grpc.concurrency: "1000000000" is outside 1..10000; write the number of concurrent workers, e.g. 50`},
	}, {
		name: "grpc numbers out of range",
		yaml: `
tasks: [grpc]
grpc:
  host: h:1
  call: a.B.C
  endpoints:
    counts: {total: 0, concurrency: 0, connections: 0, skipFirst: -1}
    many: {numRequests: 1000000001, connections: 1001, concurrency: 10000, warmupNumRequests: 0}
    times: {duration: 0s, timeout: 999us, warmupDuration: 25h}
    slow: {timeout: 61m}
    skip: {total: 30, skipFirst: 30}
`,
		want: []string{
			`x.yaml: grpc.endpoints.counts.total: "0" is outside 1..1000000000; write the number of calls to send, e.g. 200`,
			`x.yaml: grpc.endpoints.counts.concurrency: "0" is outside 1..10000; write the number of concurrent workers, e.g. 50`,
			`x.yaml: grpc.endpoints.counts.connections: "0" is outside 1..1000; write the number of connections, e.g. 1`,
			`x.yaml: grpc.endpoints.counts.skipFirst: "-1" is outside 0..999999999; write how many of the first calls to leave out of the metrics, fewer than the calls sent`,
			`x.yaml: grpc.endpoints.many.numRequests: "1000000001" is outside 1..1000000000; write the number of calls to send, e.g. 200`,
			`x.yaml: grpc.endpoints.many.warmupNumRequests: "0" is outside 1..1000000000; write the number of warmup requests, or remove the key`,
			`x.yaml: grpc.endpoints.many.connections: "1001" is outside 1..1000; write the number of connections, e.g. 1`,
			`x.yaml: grpc.endpoints.skip.skipFirst: "30" is outside 0..29; write how many of the first calls to leave out of the metrics, fewer than the calls sent`,
			`x.yaml: grpc.endpoints.slow.timeout: "1h1m" is outside 1ms..1h; write e.g. 20s`,
			`x.yaml: grpc.endpoints.times.duration: "0s" is outside 1ms..24h; write e.g. 30s or 10m`,
			`x.yaml: grpc.endpoints.times.timeout: "999µs" is outside 1ms..1h; write e.g. 20s`,
			`x.yaml: grpc.endpoints.times.warmupDuration: "25h" is outside 1ms..24h; write e.g. 30s or 10m`,
		},
	}, {
		name: "grpc connections more than concurrency",
		yaml: "tasks: [grpc]\ngrpc: {host: h:1, call: a.B.C, concurrency: 4, connections: 8}\n",
		want: []string{`x.yaml: grpc.connections: "8" is more than concurrency 4, and each connection needs a worker; lower connections or raise concurrency`},
	}, {
		name: "grpc connections more than the default concurrency",
		yaml: "tasks: [grpc]\ngrpc:\n  host: h:1\n  call: a.B.C\n  connections: 51\n  endpoints: {a: {}, b: {concurrency: 60}}\n",
		want: []string{`x.yaml: grpc.connections: "51" is more than concurrency 50, and each connection needs a worker; lower connections or raise concurrency`},
	}, {
		name: "a top-level value every endpoint overrides is checked too",
		yaml: "tasks: [http, grpc]\nhttp:\n  connections: 0\n  numRequests: 5\n  duration: 5s\n  endpoints: {a: {url: http://a/, connections: 2, numRequests: 3}}\ngrpc:\n  host: h:1\n  call: a.B.C\n  skipFirst: -1\n  protoFile: x.proto\n  protoURL: http://a/x.proto\n  endpoints: {a: {skipFirst: 0, protoFile: y.proto}}\n",
		want: []string{
			"x.yaml: http.numRequests: set either numRequests or duration, not both; remove one",
			`x.yaml: http.connections: "0" is outside 1..10000; write the number of parallel connections, e.g. 4`,
			"x.yaml: grpc.protoFile: set either protoFile or protoURL, not both; remove one",
			`x.yaml: grpc.skipFirst: "-1" is outside 0..999999999; write how many of the first calls to leave out of the metrics, fewer than the calls sent`,
		},
	}, {
		name: "a section the tasks list does not name is checked too",
		yaml: "tasks: [assess]\nhttp: {url: http://a/, connections: 20000}\n",
		want: []string{`x.yaml: http.connections: "20000" is outside 1..10000; write the number of parallel connections, e.g. 4`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "x.yaml")
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !badinput.Is(err) {
				t.Errorf("error %v is not bad input", err)
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadMissingFile: an experiment file that cannot be read is bad
// input that names it.
func TestLoadMissingFile(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "absent.yaml"))
	want := `cannot read experiment file "` + filepath.Join(dir, "absent.yaml") + `": no such file or directory; pass an existing file with -f`
	if err == nil || err.Error() != want || !badinput.Is(err) {
		t.Errorf("Load = %v, want bad input %q", err, want)
	}
}

func TestParseReady(t *testing.T) {
	e, err := Parse([]byte("tasks: [ready, http, assess]\nready: {deploy: httpbin, service: httpbin, timeout: 60s}\nhttp: {url: http://httpbin.default/get}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range e.Ready.Waits() {
		got = append(got, w.Kind+" "+w.Group+"/"+w.Version+"/"+w.Resource+" "+w.Name+" "+w.Condition)
	}
	want := []string{"deployment apps/v1/deployments httpbin Available", "service /v1/services httpbin "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"tasks: [ready]\nready: {namespace: x}\n", "x.yaml: ready: names no object; set deploy, service, ksvc, isvc, or objects: [{group, version, resource, name}]"},
		{"tasks: [ready]\nready: {deploy: a, timeout: soon}\n", `x.yaml: ready.timeout: "soon" is not a duration; write e.g. 30s or 1m30s`},
		{"tasks: [ready]\nready: {objects: [{group: apps, resource: statefulsets}]}\n", "x.yaml: ready.objects[0].version: missing; write e.g. {group: apps, version: v1, resource: statefulsets, name: web}\nx.yaml: ready.objects[0].name: missing; write e.g. {group: apps, version: v1, resource: statefulsets, name: web}"},
		{"tasks: [ready]\n", "x.yaml: ready: missing; the tasks list names ready, so add a ready section, e.g. ready: {deploy: httpbin, service: httpbin}"},
	} {
		if _, err := Parse([]byte(tc.yaml), "x.yaml"); err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) = %v\nwant %s", tc.yaml, err, tc.want)
		}
	}
}

// TestHTTPTimeoutFraction: the http step bounds requests itself, so a
// timeout need not be whole seconds.
func TestHTTPTimeoutFraction(t *testing.T) {
	e, err := Parse([]byte("tasks: [http]\nhttp: {url: http://a/, timeout: 1500ms}\n"), "x.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	eps := e.HTTPEndpoints()
	if len(eps) != 1 || eps[0].Timeout != 1500*time.Millisecond {
		t.Errorf("endpoints %+v, want one with Timeout 1.5s", eps)
	}
}
