package load

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/autox-tekton/autox/internal/metrics"
)

// Result is what one request (call) ended with.
type Result struct {
	// Latency is the time to the whole response; ignored with NoLatency.
	Latency time.Duration
	// NoLatency marks a request that got no response (transport error).
	NoLatency bool
	// Code is the HTTP status or the gRPC code name; "" for none.
	Code string
	// Error describes the failure; "" is a success.
	Error string
}

// Recorder gathers one phase's results: engines hand it whole batches, so
// its lock is taken once per batch, not per request. Every latency goes
// into one HDR histogram, however long the run; nothing is kept per
// request. It also keeps running counts for progress lines.
type Recorder struct {
	mu     sync.Mutex
	closed bool
	// skip is how many results are still to be left out (ghz's skipFirst).
	skip        int64
	requests    int64
	errors      int64
	errorMsgs   map[string]int64
	statusCodes map[string]int64
	latency     *hdrhistogram.Histogram

	ended, failed atomic.Int64
}

// NewRecorder returns an empty Recorder that leaves out the first skip
// results it is given.
func NewRecorder(skip int64) *Recorder {
	return &Recorder{skip: skip, errorMsgs: map[string]int64{}, statusCodes: map[string]int64{}, latency: metrics.NewHistogram()}
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
	if res.Code != "" {
		r.statusCodes[res.Code]++
	}
	if res.Error != "" {
		r.errors++
		r.errorMsgs[res.Error]++
	}
	if !res.NoLatency {
		metrics.RecordLatency(r.latency, res.Latency)
	}
}

// Ended counts n requests that ended, for progress lines only.
func (r *Recorder) Ended(n int64) { r.ended.Add(n) }

// Failed counts n failures seen so far, for progress lines only.
func (r *Recorder) Failed(n int64) { r.failed.Add(n) }

// close stops recording and fills m with what was recorded.
func (r *Recorder) close(m *metrics.Endpoint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	m.RequestCount, m.ErrorCount = r.requests, r.errors
	m.Errors, m.StatusCodes, m.Latency = r.errorMsgs, r.statusCodes, r.latency
}
