// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package metrics holds what a load step measured for each endpoint
// (counts, errors and an HDR latency histogram at microsecond resolution),
// the versioned metrics file the steps write, and the Iter8 metric names
// computed from it (http-get/latency-p99, grpc-getFeature/latency/mean).
package metrics

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: 1 µs to 1 hour at 3 significant digits.
const (
	lowestMicros  = 1
	highestMicros = int64(time.Hour / time.Microsecond)
	sigFigs       = 3
)

// LateAfter is how long after its intended send time a request of a
// fixed-rate load may be sent before it counts as late: later than that,
// it waited for a connection (every one was busy), not for a timer.
const LateAfter = 10 * time.Millisecond

// NewHistogram returns an empty latency histogram in microseconds.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(lowestMicros, highestMicros, sigFigs)
}

// RecordLatency adds one latency; values outside the bounds are clamped
// so that no request disappears from the counts.
func RecordLatency(h *hdrhistogram.Histogram, d time.Duration) {
	us := d.Microseconds()
	us = max(lowestMicros, min(us, highestMicros))
	_ = h.RecordValue(us) // cannot fail within the bounds
}

// Endpoint is what was measured at one endpoint.
type Endpoint struct {
	// Task is http or grpc; it decides the metric name separators.
	Task string `json:"task"`
	// Name is the endpoint's key, "" without endpoints.
	Name string `json:"name,omitempty"`
	// Target is the URL, or host and call.
	Target string `json:"target"`
	// RequestCount includes errors.
	RequestCount int64 `json:"requestCount"`
	ErrorCount   int64 `json:"errorCount"`
	// Errors counts each error by its message (status or transport error).
	Errors map[string]int64 `json:"errors,omitempty"`
	// StatusCodes counts responses by status code (HTTP) or gRPC code name.
	StatusCodes map[string]int64 `json:"statusCodes,omitempty"`
	// Percentiles reported for this endpoint, sorted.
	Percentiles []float64 `json:"percentiles"`
	// DurationSeconds is the wall time of the measured load, warmup
	// excluded: from its start to the end of its last request (or to the
	// end of the engine's work, for an engine that does not say when that
	// was; see load.Recorder.LoadEnded).
	DurationSeconds float64 `json:"durationSeconds"`
	// Rate is the total rate asked for, requests per second; 0 is a
	// closed loop (as fast as the connections go).
	Rate float64 `json:"rate,omitempty"`
	// LateCount counts, at a fixed rate, the requests sent more than
	// load.LateAfter after their intended send time: every connection
	// was busy.
	LateCount int64 `json:"lateCount,omitempty"`
	// Latency holds every response's latency, the response time: at a
	// fixed rate from the request's intended send time (so the time it
	// waited for a connection is in it), in a closed loop from its send.
	// Calls that failed without a response (transport errors) are counted
	// but have no latency.
	Latency *hdrhistogram.Histogram `json:"-"`
	// LatencyEncoded is Latency in HdrHistogram's V2 compressed form, base64.
	LatencyEncoded string `json:"latency"`
	// ServiceTime holds, at a fixed rate, every response's time from its
	// actual send; nil in a closed loop, where it equals Latency.
	ServiceTime *hdrhistogram.Histogram `json:"-"`
	// ServiceTimeEncoded is ServiceTime encoded as LatencyEncoded is.
	ServiceTimeEncoded string `json:"serviceTime,omitempty"`
	// LatencyBlocks are the response times in the order they were
	// recorded, cut into blocks (blocks.go): what a regression verdict
	// judges, where a burst of slow requests counts once.
	LatencyBlocks []Block `json:"latencyBlocks,omitempty"`
	// Note explains something a reader should know (e.g. streams).
	Note string `json:"note,omitempty"`
	// Workers has one row per worker when the load was spread over
	// several (Merge); the fields above are their totals.
	Workers []WorkerRow `json:"workers,omitempty"`
}

// Prefix is the metric prefix: http-get, grpc, ...
func (e *Endpoint) Prefix() string {
	if e.Name == "" {
		return e.Task
	}
	return e.Task + "-" + e.Name
}

// sep is "-" for http metrics (latency-mean) and "/" for grpc
// (latency/mean): the seed's names for each.
func (e *Endpoint) sep() string {
	if e.Task == "grpc" {
		return "/"
	}
	return "-"
}

// Info describes a metric for reports.
type Info struct {
	// Units is "msec" for latencies, "" for counts and rates.
	Units       string `json:"units,omitempty"`
	Description string `json:"description"`
}

// Values returns every metric of the endpoint by Iter8 name, their
// descriptions, and for each metric that cannot be computed, why.
func (e *Endpoint) Values() (values map[string]float64, info map[string]Info, unavailable map[string]string) {
	values, info, unavailable = map[string]float64{}, map[string]Info{}, map[string]string{}
	p := e.Prefix() + "/"
	unit := "requests"
	if e.Task == "grpc" {
		unit = "calls"
	}
	set := func(name string, v float64, units, desc string) {
		values[p+name] = v
		info[p+name] = Info{Units: units, Description: desc}
	}
	set("request-count", float64(e.RequestCount), "", "number of "+unit+" sent, errors included"+noteSuffix(e.Note))
	set("error-count", float64(e.ErrorCount), "", "number of "+unit+" that were errors")
	if e.RequestCount > 0 {
		set("error-rate", float64(e.ErrorCount)/float64(e.RequestCount), "", "fraction of "+unit+" that were errors")
	} else {
		unavailable[p+"error-rate"] = "no " + unit + " were sent"
	}
	rated := e.Rate > 0
	if rated {
		set("late-count", float64(e.LateCount), "", "number of "+unit+" sent more than "+LateAfter.String()+" after their intended time (every connection busy)")
	}
	from := "from each send"
	if rated {
		from = "from each intended send time at " + strconv.FormatFloat(e.Rate, 'g', -1, 64) + "/s"
	}
	e.times(p, "latency", "latencies ("+from+")", e.Latency, set, info, unavailable, unit)
	if rated {
		e.times(p, "service-time", "service times (from each actual send)", e.ServiceTime, set, info, unavailable, unit)
	}
	return values, info, unavailable
}

// times sets the mean, stddev, min, max and percentiles of h under
// p+name (latency-p99, latency/p99), or says why they are unavailable.
func (e *Endpoint) times(p, name, what string, h *hdrhistogram.Histogram, set func(string, float64, string, string),
	info map[string]Info, unavailable map[string]string, unit string) {
	lat := name + e.sep()
	names := []string{lat + "mean", lat + "stddev", lat + "min", lat + "max"}
	for _, q := range e.Percentiles {
		names = append(names, lat+"p"+FormatPercentile(q))
	}
	if h == nil || h.TotalCount() == 0 {
		why := "no " + unit + " got a response"
		if e.RequestCount == 0 {
			why = "no " + unit + " were sent"
		}
		for _, n := range names {
			unavailable[p+n] = why
			info[p+n] = Info{Units: "msec", Description: name + ": " + why}
		}
		return
	}
	set(lat+"mean", h.Mean()/1000, "msec", "mean of observed "+what)
	set(lat+"stddev", h.StdDev()/1000, "msec", "standard deviation of observed "+what)
	set(lat+"min", float64(h.Min())/1000, "msec", "minimum of observed "+what)
	set(lat+"max", float64(h.Max())/1000, "msec", "maximum of observed "+what)
	for _, q := range e.Percentiles {
		set(lat+"p"+FormatPercentile(q), float64(h.ValueAtQuantile(q))/1000, "msec",
			FormatPercentile(q)+"th percentile of observed "+what)
	}
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return "; " + note
}

// FormatPercentile writes 50 as "50" and 99.9 as "99.9", as in the names.
func FormatPercentile(q float64) string {
	return strconv.FormatFloat(q, 'f', -1, 64)
}

// Bucket is one bar of a latency histogram, in milliseconds.
type Bucket struct {
	LowMs  float64 `json:"lowMs"`
	HighMs float64 `json:"highMs"`
	Count  int64   `json:"count"`
}

// Buckets regroups the latency histogram into at most n bars of equal
// width between the smallest and largest latency, for charts.
func (e *Endpoint) Buckets(n int) []Bucket {
	h := e.Latency
	if h == nil || h.TotalCount() == 0 || n <= 0 {
		return nil
	}
	lo, hi := float64(h.Min()), float64(h.Max())
	width := (hi - lo) / float64(n)
	if width <= 0 {
		return []Bucket{{LowMs: lo / 1000, HighMs: hi / 1000, Count: h.TotalCount()}}
	}
	out := make([]Bucket, n)
	for i := range out {
		out[i].LowMs = (lo + width*float64(i)) / 1000
		out[i].HighMs = (lo + width*float64(i+1)) / 1000
	}
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		mid := (float64(bar.From) + float64(bar.To)) / 2
		i := int(math.Floor((mid - lo) / width))
		i = max(0, min(i, n-1))
		out[i].Count += bar.Count
	}
	return out
}

// encode fills LatencyEncoded and ServiceTimeEncoded from the histograms.
func (e *Endpoint) encode() error {
	h := e.Latency
	if h == nil {
		h = NewHistogram()
	}
	var err error
	if e.LatencyEncoded, err = encodeHDR(h); err != nil {
		return fmt.Errorf("encoding latency histogram of %s: %w", e.Prefix(), err)
	}
	e.ServiceTimeEncoded = ""
	if e.ServiceTime != nil {
		if e.ServiceTimeEncoded, err = encodeHDR(e.ServiceTime); err != nil {
			return fmt.Errorf("encoding service time histogram of %s: %w", e.Prefix(), err)
		}
	}
	return nil
}

// encodeHDR writes h in HdrHistogram's V2 compressed form, base64.
func encodeHDR(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// decode fills the histograms from their encoded forms.
func (e *Endpoint) decode() error {
	h, err := DecodeHDR(e.LatencyEncoded)
	if err != nil {
		return fmt.Errorf("latency histogram of %s: %w", e.Prefix(), err)
	}
	e.Latency = h
	if e.ServiceTimeEncoded != "" {
		if e.ServiceTime, err = DecodeHDR(e.ServiceTimeEncoded); err != nil {
			return fmt.Errorf("service time histogram of %s: %w", e.Prefix(), err)
		}
	}
	slices.Sort(e.Percentiles)
	return nil
}

// DecodeHDR reads a histogram that encode wrote. Its geometry must be
// NewHistogram's: hdrhistogram.Decode allocates what the header asks for
// (up to 48 MB for 1..MaxInt64 at 5 digits), so a header is read first
// and any other geometry refused.
func DecodeHDR(s string) (*hdrhistogram.Histogram, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	if err := checkGeometry(b); err != nil {
		return nil, err
	}
	return hdrhistogram.Decode(b)
}

// checkGeometry reads the header of a V2 compressed histogram (base64 text,
// as hdrhistogram's Encode writes it) and refuses a geometry other than
// NewHistogram's.
func checkGeometry(encoded []byte) error {
	raw, err := base64.StdEncoding.DecodeString(string(encoded))
	if err != nil {
		return fmt.Errorf("not an encoded histogram: %w", err)
	}
	// 8 bytes (cookie, compressed length), then zlib of the 40-byte
	// header: cookie, payload length, offset, significant digits (int32
	// each), lowest, highest (int64 each), conversion ratio; then counts.
	if len(raw) < 8 {
		return fmt.Errorf("not a histogram: %d bytes", len(raw))
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return fmt.Errorf("not a compressed histogram: %w", err)
	}
	defer z.Close()
	var h struct {
		Cookie, PayloadLength, Offset, Digits int32
		Lowest, Highest                       int64
	}
	if err := binary.Read(z, binary.BigEndian, &h); err != nil {
		return fmt.Errorf("histogram header: %w", err)
	}
	if h.Digits != sigFigs || h.Lowest != lowestMicros || h.Highest != highestMicros {
		return fmt.Errorf("histogram of %d..%d at %d digits, not autox's %d..%d µs at %d", h.Lowest, h.Highest, h.Digits, lowestMicros, highestMicros, sigFigs)
	}
	return nil
}
