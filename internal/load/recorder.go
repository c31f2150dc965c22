// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package load

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/autox-tekton/autox/internal/metrics"
)

// LateAfter is how long after its intended send time a request of a
// fixed-rate load may be sent before it counts as late.
const LateAfter = metrics.LateAfter

// Result is what one request (call) ended with.
type Result struct {
	// Latency is the service time: from sending the request to the end
	// of its response; ignored with NoLatency.
	Latency time.Duration
	// Wait is, at a fixed rate, how long the request waited after its
	// intended send time before it was sent (load.Wait); 0 in a closed
	// loop. The response time, what the latency metrics report, is
	// Wait + Latency.
	Wait time.Duration
	// NoLatency marks a request that got no response (transport error).
	NoLatency bool
	// Code is the HTTP status or the gRPC code name; "" for none.
	Code string
	// Error describes the failure; "" is a success.
	Error string
}

// Recorder gathers one phase's results: engines hand it whole batches, so
// its lock is taken once per batch, not per request. Every response time
// goes into one HDR histogram, however long the run, and into blocks of
// the run in the order recorded (metrics.BlockRecorder, at most
// metrics.MaxBlocks), and at a fixed rate every service time into a
// second histogram; nothing is kept per request. It also
// keeps running counts for progress lines.
type Recorder struct {
	mu     sync.Mutex
	closed bool
	// skip is how many results are still to be left out (ghz's skipFirst).
	skip        int64
	requests    int64
	errors      int64
	errorMsgs   map[string]int64
	statusCodes map[string]int64
	late        int64
	latency     *hdrhistogram.Histogram
	// service is nil in a closed loop, where it would equal latency.
	service *hdrhistogram.Histogram
	// blocks are the response times in blocks, in the order recorded.
	blocks metrics.BlockRecorder

	ended, failed, lateNow atomic.Int64

	// start is when the phase started; lastEnd, when set, is the latest
	// LoadEnded as a duration from start, plus one (0: none yet).
	start   time.Time
	lastEnd atomic.Int64
}

// NewRecorder returns an empty Recorder that leaves out the first skip
// results it is given; rated says the load has a fixed rate, so that
// service times are kept apart from response times.
func NewRecorder(skip int64, rated bool) *Recorder {
	r := &Recorder{skip: skip, errorMsgs: map[string]int64{}, statusCodes: map[string]int64{}, latency: metrics.NewHistogram()}
	if rated {
		r.service = metrics.NewHistogram()
	}
	return r
}

// Record adds one batch: batch calls add once per result, in the order
// the results came. A Recorder that the loop has closed (a run it
// stopped waiting for) drops what comes late.
func (r *Recorder) Record(batch func(add func(Result))) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	batch(r.add)
}

func (r *Recorder) add(res Result) {
	if r.skip > 0 {
		r.skip--
		return
	}
	r.requests++
	if res.Wait > LateAfter {
		r.late++
		r.lateNow.Add(1)
	}
	if res.Code != "" {
		r.statusCodes[res.Code]++
	}
	if res.Error != "" {
		r.errors++
		r.errorMsgs[res.Error]++
	}
	if !res.NoLatency {
		metrics.RecordLatency(r.latency, res.Wait+res.Latency)
		r.blocks.Record(res.Wait + res.Latency)
		if r.service != nil {
			metrics.RecordLatency(r.service, res.Latency)
		}
	}
}

// Ended counts n requests that ended, for progress lines only.
func (r *Recorder) Ended(n int64) { r.ended.Add(n) }

// LoadEnded notes that one of the engine's workers has ended its last
// request: the phase's duration ends at the last such note, so that what
// an engine does after its last response (hey prints each batch's report
// and the adapter reads it back) does not count as time spent sending.
// An engine that does not call it is timed until Send returns.
func (r *Recorder) LoadEnded() {
	d := int64(time.Since(r.start)) + 1
	for {
		old := r.lastEnd.Load()
		if d <= old || r.lastEnd.CompareAndSwap(old, d) {
			return
		}
	}
}

// took is how long the phase sent: until the last LoadEnded, or until
// returned when there was none.
func (r *Recorder) took(returned time.Time) time.Duration {
	if d := r.lastEnd.Load(); d > 0 {
		return time.Duration(d - 1)
	}
	return returned.Sub(r.start)
}

// Failed counts n failures seen so far, for progress lines only.
func (r *Recorder) Failed(n int64) { r.failed.Add(n) }

// close stops recording and fills m with what was recorded.
func (r *Recorder) close(m *metrics.Endpoint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	m.RequestCount, m.ErrorCount = r.requests, r.errors
	m.Errors, m.StatusCodes, m.Latency = r.errorMsgs, r.statusCodes, r.latency
	m.ServiceTime, m.LateCount = r.service, r.late
	m.LatencyBlocks = r.blocks.Blocks()
}
