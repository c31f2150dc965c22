// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package grpcload

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ghzload "github.com/bojand/ghz/load"
	"github.com/bojand/ghz/runner"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/load"
	"github.com/autox-tekton/autox/internal/metrics"
)

// dialTimeout bounds each connection ghz opens.
const dialTimeout = 10 * time.Second

// DefaultBatch bounds the calls of one ghz Requester. ghz keeps a detail
// of every call (64 bytes, preallocated for its whole count, and only the
// first 1M) until it ends; calls run as a sequence of Requesters of at
// most this many calls, each recorded into the endpoint's HDR histogram
// when it ends, so a step needs about 10 MB for results however long it
// runs. Each Requester dials its own connections.
const DefaultBatch = 50_000

// Work is one run of the grpc task: every endpoint, one after another.
type Work struct {
	Endpoints []Endpoint
	// Log gets progress lines; nil discards them.
	Log *slog.Logger
	// ProgressEvery is the interval of progress lines; 0 means 5s.
	ProgressEvery time.Duration
	// StartAt, when set, is when the load begins (load.Loop.StartAt).
	StartAt time.Time

	// batch overrides DefaultBatch (tests).
	batch int
	// closed, when set, is called after each Requester's Run has
	// returned (tests: it stands for ghz waiting to see a connection
	// closed).
	closed func()
}

// Run sends the load and returns what was measured. When ctx is done it
// stops within a few seconds and returns what was measured so far, with
// File.Stopped set and an error that wraps context.Cause(ctx).
func (w *Work) Run(ctx context.Context) (*metrics.File, error) {
	batch := w.batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	var eps []load.Endpoint
	for _, ep := range w.Endpoints {
		m := &metrics.Endpoint{Task: experiment.TaskGRPC, Name: ep.Name, Target: ep.Call + " at " + ep.Host, Percentiles: ep.Percentiles}
		if ep.ServerStreaming {
			m.Note = "server streaming: one call per stream, latency of the whole stream"
		}
		if ep.Unresolved != "" {
			m.Note = ep.Unresolved
		}
		eps = append(eps, load.Endpoint{
			Traffic: ep.Traffic,
			Metrics: m,
			Warning: ep.Unresolved,
			Describe: fmt.Sprintf("%s at %s, %s, concurrency %d, %d connections, %s", ep.Call, ep.Host, load.Amount(ep.Traffic, "calls"),
				ep.Workers, ep.Connections, load.Rate(ep.Rate, "calls")),
			SkipFirst: ep.SkipFirst,
			Busy:      fmt.Sprintf("all %d workers were busy; raise %s.concurrency", ep.Workers, ep.Path),
			Engine:    &engine{ep: ep, batch: batch, closed: w.closed},
		})
	}
	return load.Loop{Task: experiment.TaskGRPC, Unit: "calls", FailureNoun: "errors", Log: w.Log, ProgressEvery: w.ProgressEvery, StartAt: w.StartAt}.Run(ctx, eps)
}

// engine is ghz behind the load loop, for one endpoint.
type engine struct {
	ep     Endpoint
	batch  int
	closed func()
}

// Send runs ghz Requesters one after another until the gate grants no
// more. ghz's own pacer is replaced by the gate, so ghz never needs to
// be stopped, except to abort calls in flight.
//
// A Requester's Run ends by closing its connections, and ghz can wait
// 10s to see one closed (a race in its connectionOnState: the state
// turns to Shutdown between its two reads of it). So the next Requester
// starts as soon as every call of the one before has ended, and each is
// recorded once its Run has returned, in the order they were sent
// (skipFirst counts calls in that order). Requesters still closing keep
// their calls' details until then: at most 10s of calls (64 bytes each).
// The phase is timed until the last call ended, not until ghz closed.
func (e *engine) Send(abort context.Context, g *load.Gate, rec *load.Recorder) error {
	var runs []*batchRun // started and not yet recorded, in order
	var err error
	for err == nil && g.Open() {
		n := e.batch
		if r := g.Remaining(); r >= 0 {
			n = int(min(int64(n), r))
		}
		var b *batchRun
		if b, err = e.start(abort, g, rec, n); err != nil {
			break
		}
		runs = append(runs, b)
		b.sent(rec)
		for err == nil && len(runs) > 0 && runs[0].returned() {
			err = runs[0].wait(rec)
			runs = runs[1:]
		}
		if (b.returned() && b.err != nil) || b.guard.turnedAway.Load() {
			break
		}
	}
	for _, b := range runs {
		if werr := b.wait(rec); err == nil {
			err = werr
		}
	}
	return err
}

// batchRun is one ghz Requester running.
type batchRun struct {
	guard *guard
	done  chan struct{}
	rep   *runner.Report
	err   error
}

// start makes a Requester of at most n calls and runs it.
func (e *engine) start(abort context.Context, g *load.Gate, rec *load.Recorder, n int) (*batchRun, error) {
	reqr, guard, err := e.newRequester(g, n, rec)
	if err != nil {
		return nil, err
	}
	b := &batchRun{guard: guard, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.rep, b.err = runOrAbort(abort, reqr, guard)
		if e.closed != nil {
			e.closed()
		}
	}()
	return b, nil
}

// sent waits until every call of b has ended, or its Run has returned
// (a stopped Requester can have granted a call it never made), and
// notes the phase's sending as ended until then.
func (b *batchRun) sent(rec *load.Recorder) {
	select {
	case <-b.guard.drained:
	case <-b.done:
	}
	rec.LoadEnded()
}

// returned reports whether b's Run has returned.
func (b *batchRun) returned() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// wait waits for b's Run to return and records its calls. ghz's own
// errors (not the calls') mean the load did not run.
func (b *batchRun) wait(rec *load.Recorder) error {
	<-b.done
	if b.err != nil {
		return fmt.Errorf("ghz: %w", b.err)
	}
	record(rec, b.rep, b.guard.dues)
	return nil
}

// newRequester makes a ghz Requester of at most n calls, each granted by
// g and counted in rec's progress (rec may be nil), and its guard.
func (e *engine) newRequester(g *load.Gate, n int, rec *load.Recorder) (*runner.Requester, *guard, error) {
	ep := e.ep
	gd := &guard{gate: g, max: uint64(n), drained: make(chan struct{})}
	data := "{}" // ghz needs data; no data is the empty message
	if len(ep.Data) > 0 {
		data = string(ep.Data)
	}
	onFinish := grpc.OnFinish(func(err error) {
		gd.ended()
		if rec != nil {
			rec.Ended(1)
			if err != nil {
				rec.Failed(1)
			}
		}
	})
	opts := []runner.Option{
		runner.WithProtosetBinary(ep.Protoset),
		runner.WithTotalRequests(uint(n)),
		runner.WithConcurrency(uint(ep.Workers)),
		runner.WithConnections(uint(ep.Connections)),
		runner.WithPacer(gd),
		runner.WithWorkerTicker(newWorkerTicker(ep.Workers, gd)),
		runner.WithTimeout(ep.Timeout),
		runner.WithDialTimeout(dialTimeout),
		runner.WithInsecure(ep.Insecure),
		runner.WithDataFromJSON(data),
		// Stop is only called to abort calls in flight: it closes the
		// connections.
		runner.WithDurationStopAction("close"),
		runner.WithDefaultCallOptions([]grpc.CallOption{
			onFinish, grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32),
		}),
	}
	if !ep.Insecure && len(ep.CACertPEM) > 0 {
		// Not ep.CACert: ghz gets the bytes Prepare read within its Files.
		ca, done, err := caCopy(ep.CACertPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("handing ghz the CA certificate: %w", err)
		}
		defer done()
		opts = append(opts, runner.WithRootCertificate(ca))
	}
	if len(ep.Metadata) > 0 {
		opts = append(opts, runner.WithMetadata(ep.Metadata))
	}
	if !templated(ep) {
		opts = append(opts, runner.WithDisableTemplateData(true), runner.WithDisableTemplateFuncs(true))
	}
	cfg, err := runner.NewConfig(ep.Call, ep.Host, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("configuring ghz: %w", err)
	}
	reqr, err := runner.NewRequester(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("preparing ghz: %w", err)
	}
	return reqr, gd, nil
}

// templated reports whether the endpoint's data or metadata holds a
// template action ("{{"), which ghz fills in for every call (with
// .RequestNumber, .WorkerID, sprig's functions...). Without one, its
// templates are turned off: ghz would otherwise build a template with
// all of sprig's functions for every call, only to find nothing to fill
// in (about 100 allocations a call, most of ghz's own cost).
func templated(ep Endpoint) bool {
	if bytes.Contains(ep.Data, []byte("{{")) {
		return true
	}
	for k, v := range ep.Metadata {
		if strings.Contains(k, "{{") || strings.Contains(v, "{{") {
			return true
		}
	}
	return false
}

// stopper is the part of ghz's Requester that runOrAbort drives.
type stopper interface {
	Run() (*runner.Report, error)
	Stop(runner.StopReason)
}

// runOrAbort runs r and returns its report; when abort is done first, it
// stops r (once), which closes its connections and so ends its calls in
// flight. The guard decides whether Stop is safe, and needed.
func runOrAbort(abort context.Context, r stopper, g *guard) (*runner.Report, error) {
	type outcome struct {
		rep *runner.Report
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, err := r.Run()
		done <- outcome{rep, err}
	}()
	select {
	case o := <-done:
		return o.rep, o.err
	case <-abort.Done():
	}
	g.stop(r)
	o := <-done
	return o.rep, o.err
}

// guard is one Requester's pacer (see Pace), and what makes its Stop
// safe. ghz's Stop sends on a channel that Run closes when it returns: a
// send racing with that close is a data race, and a send after it
// panics. Run returns only after ghz has finished the worker ticker
// (which happens once the pacer has said stop) and after every call has
// ended (each call's OnFinish has returned). So Stop holds mu, which
// Finish and every OnFinish need: while it runs, Run cannot return. Stop
// is skipped when the ticker is finished and no call is in flight: then
// Run may return at any moment, and there is nothing left to abort.
type guard struct {
	gate       *load.Gate
	max        uint64
	turnedAway atomic.Bool
	// dues (at a fixed rate) has each granted call's intended send time,
	// in the order granted. ghz calls Pace from one goroutine; dues is
	// read once Run has returned.
	dues []time.Time

	mu       sync.RWMutex
	finished bool
	// inFlight counts calls granted and not yet ended.
	inFlight atomic.Int64
	stopped  bool
	// drained is closed once the pacer has said stop and every call
	// granted has ended.
	drained     chan struct{}
	drainedOnce sync.Once
}

// Pace grants at most max calls, each only with a ticket from the gate,
// and waits inside the gate for the rate. ghz asks it before every call;
// hits is how many calls it has started.
func (g *guard) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= g.max {
		return 0, true
	}
	due, ok := g.gate.NextDue()
	if !ok {
		g.turnedAway.Store(true)
		return 0, true
	}
	if !due.IsZero() {
		g.dues = append(g.dues, due)
	}
	g.inFlight.Add(1)
	return 0, false
}

// Rate is the gate's total rate.
func (g *guard) Rate(time.Duration) float64 { return g.gate.Rate() }

// ended counts a call that ended (from its OnFinish).
func (g *guard) ended() {
	g.mu.RLock()
	if g.inFlight.Add(-1) == 0 && g.finished {
		g.drainedOnce.Do(func() { close(g.drained) })
	}
	g.mu.RUnlock()
}

// finish marks the pacer ended (from the ticker's Finish).
func (g *guard) finish() {
	g.mu.Lock()
	g.finished = true
	if g.inFlight.Load() == 0 {
		g.drainedOnce.Do(func() { close(g.drained) })
	}
	g.mu.Unlock()
}

// stop stops r once, if Run cannot return meanwhile and calls are in
// flight or may still start.
func (g *guard) stop(r stopper) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped || (g.finished && g.inFlight.Load() == 0) {
		return
	}
	g.stopped = true
	r.Stop(runner.ReasonCancel)
}

// workerTicker starts all of ghz's workers at once, as ghz's own
// ConstWorkerTicker does, but may be finished before it has started
// them. ghz finishes the ticker (closes its channel) as soon as the pacer
// says stop, which can come before the ticker's Run has sent: with
// ghz's ticker, that send panics in a goroutine of ghz's (seen when the
// gate grants nothing to a Requester, or when it is stopped at once).
type workerTicker struct {
	c     chan ghzload.TickValue
	n     int
	stop  chan struct{}
	ran   chan struct{}
	guard *guard
}

func newWorkerTicker(n int, g *guard) *workerTicker {
	return &workerTicker{c: make(chan ghzload.TickValue), n: n, stop: make(chan struct{}), ran: make(chan struct{}), guard: g}
}

func (t *workerTicker) Ticker() <-chan ghzload.TickValue { return t.c }

// Run asks for all the workers, unless Finish came first.
func (t *workerTicker) Run() {
	defer close(t.ran)
	select {
	case t.c <- ghzload.TickValue{Delta: t.n, Done: true}:
	case <-t.stop:
	}
}

// Finish closes the channel once Run can no longer send on it.
func (t *workerTicker) Finish() {
	t.guard.finish()
	close(t.stop)
	<-t.ran
	close(t.c)
}

// record hands one Requester's calls to the recorder. Every call that
// did not end OK is an error; calls that failed without reaching the
// server (Unavailable) have no latency.
//
// At a fixed rate, dues has the calls' intended send times in the order
// granted, and each call waited from its due time to its start (its end,
// ghz's Timestamp, less its latency). ghz hands the granted calls to its
// workers in that order, so the k-th call to start is the k-th granted.
// Two calls granted within microseconds may start in the other order;
// exchanging their due times moves each percentile by at most the
// difference of their ends.
func record(rec *load.Recorder, rep *runner.Report, dues []time.Time) {
	var waits []time.Duration
	if len(dues) > 0 {
		byStart := make([]int, len(rep.Details))
		for i := range byStart {
			byStart[i] = i
		}
		start := func(i int) time.Time { return rep.Details[i].Timestamp.Add(-rep.Details[i].Latency) }
		slices.SortStableFunc(byStart, func(a, b int) int { return start(a).Compare(start(b)) })
		waits = make([]time.Duration, len(rep.Details))
		for k, i := range byStart {
			if k < len(dues) {
				waits[i] = load.Wait(dues[k], start(i))
			}
		}
	}
	rec.Record(func(add func(load.Result)) {
		for i, d := range rep.Details {
			r := load.Result{Latency: d.Latency, Code: d.Status, NoLatency: d.Status == codes.Unavailable.String()}
			if waits != nil {
				r.Wait = waits[i]
			}
			if d.Status != codes.OK.String() {
				r.Error = d.Error
				if r.Error == "" {
					r.Error = d.Status
				}
			}
			add(r)
		}
	})
}
