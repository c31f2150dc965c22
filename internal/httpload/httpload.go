// Package httpload sends HTTP load through rakyll/hey's requester and
// turns what hey saw into metrics.Endpoint values.
//
// hey has no result API: its Output template (with jsonify) is used to
// read every request's latency and status back from Work.Writer. Two of
// hey's habits are corrected here: its QPS is per worker (we divide the
// total rate among connections), and each worker sends N/C requests,
// dropping the remainder (we run a second Work beside the first for the
// remainder, so 200 requests on 3 connections send 200).
package httpload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rakyll/hey/requester"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
)

// unboundedPerWorker stands for "until stopped" in duration runs without a
// rate: hey needs a request count, and Stop ends the run.
const unboundedPerWorker = 1 << 30

// heyOutput selects from hey's report only fields that are never NaN (its
// {{ jsonify . }} prints nothing when every request fails).
const heyOutput = `{"total":{{ jsonify .Total }},"numRes":{{ jsonify .NumRes }},"errorDist":{{ jsonify .ErrorDist }},"lats":{{ jsonify .Lats }},"statusCodes":{{ jsonify .StatusCodes }}}`

// heyReport is heyOutput decoded.
type heyReport struct {
	// Total is hey's own measure of the load's wall time, report excluded.
	Total       time.Duration    `json:"total"`
	NumRes      int64            `json:"numRes"`
	ErrorDist   map[string]int64 `json:"errorDist"`
	Lats        []float64        `json:"lats"` // seconds, responses only
	StatusCodes []int            `json:"statusCodes"`
}

// Work is one run of the http task: every endpoint, one after another.
type Work struct {
	// Endpoints in the order they run, payloads loaded.
	Endpoints []experiment.HTTPEndpoint
	// Log gets progress lines; nil discards them.
	Log *slog.Logger
	// ProgressEvery is the interval of progress lines; 0 means 5s.
	ProgressEvery time.Duration
}

// Run sends the load and returns what was measured. It stops early, with
// ctx's error, when ctx is done.
func (w *Work) Run(ctx context.Context) (*metrics.File, error) {
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &metrics.File{Task: experiment.TaskHTTP, StartTime: time.Now().UTC()}
	for _, ep := range w.Endpoints {
		if ep.WarmupCount > 0 || ep.WarmupDuration > 0 {
			log.Info(fmt.Sprintf("%s: warmup %s", ep.MetricPrefix(), amount(ep.WarmupCount, ep.WarmupDuration)))
			if _, _, err := w.load(ctx, log, ep, ep.WarmupCount, ep.WarmupDuration, "warmup"); err != nil {
				return nil, err
			}
		}
		log.Info(fmt.Sprintf("%s: %s %s, %s, %d connections, %s", ep.MetricPrefix(), ep.Method, ep.URL,
			amount(ep.Count, ep.Duration), ep.Workers, rate(ep.Rate)))
		rep, took, err := w.load(ctx, log, ep, ep.Count, ep.Duration, "")
		if err != nil {
			return nil, err
		}
		m := toEndpoint(ep, rep, rep.Total)
		if missing := m.RequestCount - m.Latency.TotalCount() - transportErrors(rep); missing > 0 {
			log.Warn(fmt.Sprintf("%s: hey keeps the first 1000000 results only; %d responses are counted without latency or status", ep.MetricPrefix(), missing))
		}
		log.Info(fmt.Sprintf("%s: done, %d requests, %d errors, %.1fs", m.Prefix(), m.RequestCount, m.ErrorCount, took.Seconds()))
		f.Endpoints = append(f.Endpoints, m)
	}
	f.EndTime = time.Now().UTC()
	return f, nil
}

// shard is one hey Work and its report.
type shard struct {
	work *requester.Work
	out  bytes.Buffer
	stop sync.Once
}

func (s *shard) Stop() { s.stop.Do(s.work.Stop) }

// load runs n requests (or for d) at one endpoint and returns hey's
// merged report and the wall time of the load.
func (w *Work) load(ctx context.Context, log *slog.Logger, ep experiment.HTTPEndpoint, n int64, d time.Duration, phase string) (*heyReport, time.Duration, error) {
	// hey's report comes only at the end; progress comes from trace hooks
	// that hey does not set itself (composing a hook both set costs
	// httptrace a reflect.MakeFunc per request, about 10% of throughput).
	// A response is done when its connection goes back to the idle pool
	// (PutIdleConn, after hey has read the body); a request that could not
	// connect is done as an error. Error statuses are counted at the end.
	var sent, completed, connErrors atomic.Int64
	trace := &httptrace.ClientTrace{
		ConnectDone: func(_, _ string, err error) {
			if err != nil {
				connErrors.Add(1)
			}
		},
		PutIdleConn: func(error) { completed.Add(1) },
	}
	// One traced context for every request: hey adds its own trace per
	// request on top of it.
	tctx := httptrace.WithClientTrace(ctx, trace)
	base, err := http.NewRequestWithContext(tctx, ep.Method, ep.URL, nil)
	if err != nil {
		return nil, 0, experiment.Fieldf(ep.Path+".url", fmt.Sprintf("%q: %v", ep.URL, err))
	}
	base.Header.Set("User-Agent", "autox")
	if ep.ContentType != "" {
		base.Header.Set("Content-Type", ep.ContentType)
	}
	for k, v := range ep.Headers {
		base.Header.Set(k, v)
	}
	if h := base.Header.Get("Host"); h != "" {
		base.Host = h
	}
	body := ep.Payload
	base.ContentLength = int64(len(body))
	newRequest := func() *http.Request {
		sent.Add(1)
		r := base.Clone(tctx)
		if len(body) > 0 {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		return r
	}

	conns := ep.Workers
	stopAfter := d
	if d > 0 && ep.Rate > 0 {
		// A rated duration run sends exactly rate x duration requests;
		// Stop only guards against a server too slow to keep up.
		n = max(1, int64(math.Round(ep.Rate*d.Seconds())))
		stopAfter = d + time.Duration(float64(conns)/ep.Rate*float64(time.Second))
	}
	conns = int(min(int64(conns), max(n, 1)))
	if n == 0 {
		n = int64(conns) * unboundedPerWorker
	}
	perWorkerQPS := 0.0
	if ep.Rate > 0 {
		perWorkerQPS = ep.Rate / float64(conns)
	}
	q, r := n/int64(conns), n%int64(conns)
	var shards []*shard
	add := func(workers int, perWorker int64) {
		if workers <= 0 || perWorker <= 0 {
			return
		}
		s := &shard{}
		s.work = &requester.Work{
			Request:     base,
			RequestBody: body,
			RequestFunc: newRequest,
			N:           workers * int(perWorker),
			C:           workers,
			Timeout:     int(ep.Timeout / time.Second),
			QPS:         perWorkerQPS,
			Output:      heyOutput,
			Writer:      &s.out,
		}
		s.work.Init() // Stop before Init would block
		shards = append(shards, s)
	}
	add(conns-int(r), q)
	add(int(r), q+1)

	total := n
	if d > 0 && ep.Rate == 0 {
		total = 0
	}
	label := ep.MetricPrefix()
	if phase != "" {
		label += " " + phase
	}
	every := w.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		var timeout <-chan time.Time
		if stopAfter > 0 {
			t := time.NewTimer(stopAfter)
			defer t.Stop()
			timeout = t.C
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				stopAll(shards)
				return
			case <-timeout:
				stopAll(shards)
				timeout = nil
			case <-tick.C:
				of := ""
				if total > 0 {
					of = "/" + strconv.FormatInt(total, 10)
				}
				log.Info(fmt.Sprintf("%s: %d%s requests done, %d connection errors so far, %.0fs",
					label, min(completed.Load()+connErrors.Load(), sent.Load()), of, connErrors.Load(), time.Since(start).Seconds()))
			}
		}
	}()
	var wg sync.WaitGroup
	for _, s := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work.Run()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(done)
	if err := ctx.Err(); err != nil {
		return nil, took, fmt.Errorf("%s: load stopped: %w", label, context.Cause(ctx))
	}
	merged := &heyReport{ErrorDist: map[string]int64{}}
	for _, s := range shards {
		var rep heyReport
		if err := json.Unmarshal(bytes.TrimSpace(s.out.Bytes()), &rep); err != nil {
			return nil, took, fmt.Errorf("%s: reading hey's report: %w", label, err)
		}
		merged.Total = max(merged.Total, rep.Total)
		merged.NumRes += rep.NumRes
		for k, v := range rep.ErrorDist {
			merged.ErrorDist[k] += v
		}
		merged.Lats = append(merged.Lats, rep.Lats...)
		merged.StatusCodes = append(merged.StatusCodes, rep.StatusCodes...)
	}
	return merged, took, nil
}

func stopAll(shards []*shard) {
	for _, s := range shards {
		s.Stop()
	}
}

// toEndpoint turns hey's report into metrics: every response's latency
// goes into the histogram; errors are transport errors plus responses
// whose status falls in the endpoint's error ranges.
func toEndpoint(ep experiment.HTTPEndpoint, rep *heyReport, took time.Duration) *metrics.Endpoint {
	m := &metrics.Endpoint{
		Task:            experiment.TaskHTTP,
		Name:            ep.Name,
		Target:          ep.Method + " " + ep.URL,
		RequestCount:    rep.NumRes,
		Errors:          map[string]int64{},
		StatusCodes:     map[string]int64{},
		Percentiles:     ep.Percentiles,
		DurationSeconds: took.Seconds(),
		Latency:         metrics.NewHistogram(),
	}
	for msg, c := range rep.ErrorDist {
		m.Errors[msg] += c
		m.ErrorCount += c
	}
	for i, sec := range rep.Lats {
		metrics.RecordLatency(m.Latency, time.Duration(sec*float64(time.Second)))
		if i >= len(rep.StatusCodes) {
			continue
		}
		code := rep.StatusCodes[i]
		m.StatusCodes[strconv.Itoa(code)]++
		if ep.IsError(code) {
			m.ErrorCount++
			m.Errors[fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))]++
		}
	}
	return m
}

func transportErrors(rep *heyReport) int64 {
	var n int64
	for _, c := range rep.ErrorDist {
		n += c
	}
	return n
}

func amount(n int64, d time.Duration) string {
	if d > 0 {
		return "for " + d.String()
	}
	return strconv.FormatInt(n, 10) + " requests"
}

func rate(qps float64) string {
	if qps == 0 {
		return "no rate limit"
	}
	return strconv.FormatFloat(qps, 'g', -1, 64) + " requests/s in total"
}
