// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package experiment parses and validates an autox experiment: the YAML
// `values` tree of Iter8's AutoX charts (tasks, http, assess ...), and
// resolves it into the settings each step runs with.
//
// The file is what the seed passes as
// `--set groups.G.specs.S.values.X=Y`, written as the YAML key path `X: Y`.
package experiment

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Experiment is one experiment file.
type Experiment struct {
	// Tasks run in this order. Known: ready, http, grpc, assess.
	Tasks []string `yaml:"tasks" json:"tasks"`
	// Runner is accepted for Iter8 compatibility; only "job" (one loop) exists.
	Runner string  `yaml:"runner,omitempty" json:"runner,omitempty"`
	Ready  *Ready  `yaml:"ready,omitempty" json:"ready,omitempty"`
	HTTP   *HTTP   `yaml:"http,omitempty" json:"http,omitempty"`
	GRPC   *GRPC   `yaml:"grpc,omitempty" json:"grpc,omitempty"`
	Assess *Assess `yaml:"assess,omitempty" json:"assess,omitempty"`

	// BaseDir is the experiment file's folder; relative paths (payloadFile,
	// protoFile, importPaths, dataFile, cacert) start there. "" leaves them
	// relative to the working directory.
	BaseDir string `yaml:"-" json:"-"`

	// http and grpc are the tasks' endpoints, resolved once by Parse: the
	// settings above stay as the file wrote them.
	http []HTTPEndpoint
	grpc []GRPCEndpoint
}

// HTTP is the http task: settings at top level are defaults for every
// endpoint; an endpoint's own settings win.
type HTTP struct {
	HTTPSettings `yaml:",inline"`
	// Workers spreads every endpoint's load over this many workers of
	// the run (default 1; see workers.go): a task-level setting only.
	Workers *int `yaml:"workers,omitempty" json:"workers,omitempty"`
	// Endpoints by name; the name becomes the metric prefix http-<name>.
	Endpoints map[string]HTTPSettings `yaml:"endpoints,omitempty" json:"endpoints,omitempty"`
}

// HTTPSettings are the settings of one endpoint, or the defaults of all.
type HTTPSettings struct {
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Method defaults to GET, or POST when a payload is given.
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	// NumRequests and Duration are exclusive; default 100 requests.
	NumRequests *int64    `yaml:"numRequests,omitempty" json:"numRequests,omitempty"`
	Duration    *Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
	// QPS is the total rate across all connections (default 8, as Iter8).
	QPS *QPS `yaml:"qps,omitempty" json:"qps,omitempty"`
	// Connections is the number of parallel connections (default 4).
	Connections *int `yaml:"connections,omitempty" json:"connections,omitempty"`
	// At most one payload source; a payload makes the default method POST.
	PayloadStr  *string           `yaml:"payloadStr,omitempty" json:"payloadStr,omitempty"`
	PayloadFile *string           `yaml:"payloadFile,omitempty" json:"payloadFile,omitempty"`
	PayloadURL  *string           `yaml:"payloadURL,omitempty" json:"payloadURL,omitempty"`
	ContentType *string           `yaml:"contentType,omitempty" json:"contentType,omitempty"`
	Headers     map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Timeout per request; default 20s.
	Timeout *Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// ErrorRanges of status codes that count as errors (default: >= 400).
	ErrorRanges []ErrorRange `yaml:"errorRanges,omitempty" json:"errorRanges,omitempty"`
	// Percentiles besides the default 50, 75, 90, 95, 99, 99.9.
	Percentiles []float64 `yaml:"percentiles,omitempty" json:"percentiles,omitempty"`
	// Warmup requests are sent first and left out of the metrics.
	WarmupNumRequests *int64    `yaml:"warmupNumRequests,omitempty" json:"warmupNumRequests,omitempty"`
	WarmupDuration    *Duration `yaml:"warmupDuration,omitempty" json:"warmupDuration,omitempty"`
}

// ErrorRange is an inclusive range of status codes; a missing end is open.
type ErrorRange struct {
	Lower *int `yaml:"lower,omitempty" json:"lower,omitempty"`
	Upper *int `yaml:"upper,omitempty" json:"upper,omitempty"`
}

// Contains reports whether code falls in the range.
func (r ErrorRange) Contains(code int) bool {
	if r.Lower != nil && code < *r.Lower {
		return false
	}
	if r.Upper != nil && code > *r.Upper {
		return false
	}
	return true
}

// Assess is the assess task.
type Assess struct {
	SLOs *SLOs `yaml:"SLOs,omitempty" json:"SLOs,omitempty"`
	// Regression judges latency metrics against the baseline: the last
	// version of the same group and spec whose run passed.
	Regression *Regression `yaml:"regression,omitempty" json:"regression,omitempty"`
}

// Regression limits latency metrics relative to the baseline's:
// maxRatio {http-get/latency-p99: 1.10} fails a run whose p99 is more
// than 1.10 times the baseline's, when a Mann-Whitney U test of the two
// latency distributions says the shift is not noise (p below Alpha).
type Regression struct {
	MaxRatio map[string]float64 `yaml:"maxRatio,omitempty" json:"maxRatio,omitempty"`
	// Alpha is the p-value below which a slower distribution is not
	// noise; 0 means DefaultAlpha.
	Alpha float64 `yaml:"alpha,omitempty" json:"alpha,omitempty"`
}

// DefaultAlpha is a regression's alpha when the spec gives none.
const DefaultAlpha = 0.01

// AlphaOrDefault is Alpha, or DefaultAlpha when unset.
func (r *Regression) AlphaOrDefault() float64 {
	if r.Alpha == 0 {
		return DefaultAlpha
	}
	return r.Alpha
}

// RegressionMetric is a metric a regression limit may name, split:
// Prefix is the endpoint's (http-get), Mean or Percentile the statistic.
type RegressionMetric struct {
	Prefix     string
	Mean       bool
	Percentile float64
}

// ParseRegressionMetric splits a latency metric's name: http-get/latency-p99,
// http/latency-mean, grpc-x/latency/p99.9, grpc/latency/mean.
func ParseRegressionMetric(name string) (RegressionMetric, error) {
	prefix, stat, ok := strings.Cut(name, "/")
	if !ok || prefix == "" {
		return RegressionMetric{}, fmt.Errorf("%q is not a metric name; write <task>[-<endpoint>]/latency-p99 (grpc: /latency/p99) or latency-mean", name)
	}
	sep := "-"
	if prefix == "grpc" || strings.HasPrefix(prefix, "grpc-") {
		sep = "/"
	}
	rest, ok := strings.CutPrefix(stat, "latency"+sep)
	if !ok {
		return RegressionMetric{}, fmt.Errorf("%q is not a latency metric: a regression is judged on latency distributions (latency%smean, latency%sp99); give other metrics an SLO", name, sep, sep)
	}
	if rest == "mean" {
		return RegressionMetric{Prefix: prefix, Mean: true}, nil
	}
	q, err := strconv.ParseFloat(strings.TrimPrefix(rest, "p"), 64)
	if !strings.HasPrefix(rest, "p") || err != nil || q <= 0 || q > 100 || math.IsNaN(q) {
		return RegressionMetric{}, fmt.Errorf("%q is not a latency metric: write latency%smean or latency%sp<percentile> with a percentile above 0 and at most 100, e.g. latency%sp99", name, sep, sep, sep)
	}
	return RegressionMetric{Prefix: prefix, Percentile: q}, nil
}

// SLOs maps metric names to limits: upper means value <= limit, lower
// means value >= limit.
type SLOs struct {
	Upper map[string]float64 `yaml:"upper,omitempty" json:"upper,omitempty"`
	Lower map[string]float64 `yaml:"lower,omitempty" json:"lower,omitempty"`
}

// Duration is a Go duration string in YAML ("30s", "1m30s").
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("is not a duration; write e.g. 30s or 1m30s")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("%q is not a duration; write e.g. 30s or 1m30s", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(d).String())), nil
}

// QPS is a total request rate, or "unlimited".
type QPS struct {
	// PerSecond is the rate; 0 means unlimited.
	PerSecond float64
}

// Unlimited is how a file asks for no rate limit.
const Unlimited = "unlimited"

// UnmarshalYAML takes a number in MinRate..MaxRate or the word unlimited.
func (q *QPS) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == Unlimited {
		q.PerSecond = 0
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s is not a rate; write a number of requests per second such as 50, or %s", describe(n), Unlimited)
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		// YAML's own spellings: .inf, .nan, 0x10 ...
		if n.Decode(&v) != nil {
			return fmt.Errorf("%q is not a rate; write a number of requests per second such as 50, or %s", n.Value, Unlimited)
		}
	}
	if err := checkRate(n.Value, v); err != nil {
		return err
	}
	q.PerSecond = v
	return nil
}

// MarshalJSON writes the number, or "unlimited".
func (q QPS) MarshalJSON() ([]byte, error) {
	if q.PerSecond == 0 {
		return []byte(strconv.Quote(Unlimited)), nil
	}
	return []byte(strconv.FormatFloat(q.PerSecond, 'g', -1, 64)), nil
}

// MarshalYAML writes the number, or "unlimited".
func (q QPS) MarshalYAML() (any, error) {
	if q.PerSecond == 0 {
		return Unlimited, nil
	}
	return q.PerSecond, nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("duration %s is not a string", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (q *QPS) UnmarshalJSON(b []byte) error {
	if string(b) == strconv.Quote(Unlimited) {
		q.PerSecond = 0
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("qps %s is not a number", b)
	}
	q.PerSecond = v
	return nil
}
