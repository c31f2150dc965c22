// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package httpload is the http step: Prepare loads the endpoints'
// payloads (every bad input is found there, before any load), Work sends
// HTTP load through rakyll/hey's requester, behind the shared load loop
// (internal/load), and turns what hey saw into metrics.Endpoint values,
// and Step ties them together and writes <dir>/http.metrics.json. It
// links hey, and neither ghz nor client-go (cmd/deps_test.go).
//
// hey has no result API and buffers every result of a Work until it ends
// (seven slices of min(N, 1M) preallocated, and results past 1M dropped).
// So each connection is a worker that runs hey Works of one connection
// (C=1) and a bounded N, one after another: a batch. A batch's results are
// read back through hey's Output template (with jsonify) and go into the
// endpoint's HDR histogram; memory is bounded by the batch size, not by
// the length of the run.
//
// hey's own pacing and stopping are not used: the load loop's Gate is
// asked before every request (RequestFunc), which gives exact counts
// (hey drops N%C; 200 requests on 3 connections send 200 here), a total
// rate, and a soft stop. A worker that the Gate turns away stops its Work
// and hands hey a request that fails before it is sent (its context is
// already cancelled, so no connection is touched); that one result is
// taken out of hey's report.
package httpload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "unsafe" // go:linkname, for hey's clock origin

	"github.com/rakyll/hey/requester"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/load"
	"github.com/autox-tekton/autox/internal/metrics"
)

// DefaultBatch bounds the results hey holds at once over all connections
// (about 200 bytes each while a batch is read back), so a step needs
// about 10 MB for results however long it runs, plus minBatchPerConn per
// connection when there are many.
const DefaultBatch = 50_000

// UserAgent is the User-Agent of every request, unless the endpoint's
// headers set one.
const UserAgent = "autox"

// minBatchPerConn keeps batches worth their setup (a Transport and a
// connection each) when there are very many connections.
const minBatchPerConn = 32

// heyStart is hey's clock origin: hey stamps each request with its offset
// from it (now() in hey's requester, just before it calls RequestFunc).
// It is not exported; hey is pinned at v0.1.5, and a hey without it fails
// to build here, loudly. Read through it, an offset is a time on this
// process's monotonic clock, exactly: the one way to pair hey's responses
// with what the worker knows of each request (the alternative, the order
// of the responses, breaks at the first transport error, which hey lists
// apart).
//
//go:linkname heyStart github.com/rakyll/hey/requester.startTime
var heyStart time.Time

// errNotSent is the cause of the request a worker hands hey when the Gate
// turns it away: it fails before it is sent, and is not counted.
var errNotSent = errors.New("autox: not sent, the load has ended")

// Work is one run of the http task: every endpoint, one after another.
type Work struct {
	// Endpoints in the order they run, payloads loaded.
	Endpoints []experiment.HTTPEndpoint
	// Log gets progress lines; nil discards them.
	Log *slog.Logger
	// ProgressEvery is the interval of progress lines; 0 means 5s.
	ProgressEvery time.Duration
	// StartAt, when set, is when the load begins (load.Loop.StartAt).
	StartAt time.Time

	// batch overrides DefaultBatch (tests).
	batch int
}

// Run sends the load and returns what was measured. When ctx is done it
// stops within a few seconds and returns what was measured so far, with
// File.Stopped set and an error that wraps context.Cause(ctx).
func (w *Work) Run(ctx context.Context) (*metrics.File, error) {
	var eps []load.Endpoint
	for _, ep := range w.Endpoints {
		e, err := w.engine(ep)
		if err != nil {
			return nil, err
		}
		eps = append(eps, load.Endpoint{
			Traffic: ep.Traffic,
			Metrics: &metrics.Endpoint{Task: experiment.TaskHTTP, Name: ep.Name, Target: ep.Method + " " + ep.URL, Percentiles: ep.Percentiles},
			Describe: fmt.Sprintf("%s %s, %s, %d connections, %s", ep.Method, ep.URL, load.Amount(ep.Traffic, "requests"),
				load.Workers(ep.Traffic, ep.Workers), load.Rate(ep.Rate, "requests")),
			Busy:   fmt.Sprintf("all %d connections were busy; raise %s.connections", load.Workers(ep.Traffic, ep.Workers), ep.Path),
			Engine: e,
		})
	}
	return load.Loop{Task: experiment.TaskHTTP, Unit: "requests", FailureNoun: "connection errors", Log: w.Log, ProgressEvery: w.ProgressEvery, StartAt: w.StartAt}.Run(ctx, eps)
}

// engine is hey behind the load loop, for one endpoint.
type engine struct {
	ep   experiment.HTTPEndpoint
	base *http.Request
	// batch bounds the results buffered over all connections.
	batch int
	// codes and statusErrors name each status code once.
	mu           sync.Mutex
	codes        map[int]string
	statusErrors map[int]string
}

func (w *Work) engine(ep experiment.HTTPEndpoint) (*engine, error) {
	base, err := http.NewRequest(ep.Method, ep.URL, nil)
	if err != nil {
		return nil, badinput.Field(ep.Path+".url", fmt.Sprintf("%q: %v", ep.URL, err))
	}
	base.Header.Set("User-Agent", UserAgent)
	if ep.ContentType != "" {
		base.Header.Set("Content-Type", ep.ContentType)
	}
	for k, v := range ep.Headers {
		base.Header.Set(k, v)
	}
	if h := base.Header.Get("Host"); h != "" {
		base.Host = h
	}
	base.ContentLength = int64(len(ep.Payload))
	batch := w.batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	return &engine{ep: ep, base: base, batch: batch, codes: map[int]string{}, statusErrors: map[int]string{}}, nil
}

// Send runs one worker per connection until the gate grants no more.
func (e *engine) Send(abort context.Context, g *load.Gate, rec *load.Recorder) error {
	workers := g.Workers(e.ep.Workers)
	perConn := max(minBatchPerConn, e.batch/workers)
	if r := g.Remaining(); r >= 0 {
		perConn = int(min(int64(perConn), r))
	}
	notSent, cancel := context.WithCancelCause(context.Background())
	cancel(errNotSent)
	// A worker that is done sending waits, before hey reports its last
	// batch, until every worker is done or the load is aborted: a report
	// (sorting and printing the batch, reading it back) takes a core for
	// milliseconds, and made now it would hold back the requests other
	// workers still have in flight, which the phase's duration includes.
	ending := &ending{all: make(chan struct{})}
	ending.sending.Store(int64(workers))
	errc := make(chan error, workers)
	for range workers {
		go func() {
			var once sync.Once
			done := func() { once.Do(ending.one) }
			var err error
			more := true
			for err == nil && more && g.Open() {
				more, err = e.batchOf(abort, notSent, perConn, g, rec, done, ending.all)
			}
			if err == nil && more {
				// Its last batch ended without a turn-away (which notes
				// the end itself): its last request ended before that
				// batch's report, a little earlier than now.
				rec.LoadEnded()
			}
			done()
			errc <- err
		}()
	}
	var errs []error
	for range workers {
		errs = append(errs, <-errc)
	}
	return errors.Join(errs...)
}

// ending counts the workers still sending.
type ending struct {
	sending atomic.Int64
	all     chan struct{}
}

// one says that one more worker is done; the last closes all.
func (e *ending) one() {
	if e.sending.Add(-1) == 0 {
		close(e.all)
	}
}

// batchOf sends up to n requests on one connection with one hey Work,
// records them, and reports whether the gate may grant more.
// done says that the worker sends no more; allDone is closed when every
// worker has said so.
func (e *engine) batchOf(abort, notSent context.Context, n int, g *load.Gate, rec *load.Recorder, done func(), allDone <-chan struct{}) (bool, error) {
	b := &batch{}
	// The batch's requests are made with a context that the load's abort
	// (cause load.ErrAborted) and the batch's watchdog (cause a
	// timeoutError) cancel: either ends the request in flight at once.
	// The watchdog, not hey's client timeout, bounds each request: hey's
	// Timeout puts a context with a deadline (a timer, and a
	// registration of the transport's own context with it) on every
	// request, 9% of a closed-loop load's instructions; the watchdog is
	// one timer per batch and a clock read per request. Cancellable, the
	// context costs a registration per request (the transport's context
	// joins it and leaves), 2%. After a timeout the batch goes on with a
	// new context (a generation), on the same Transport: a dial the cut
	// request had started goes on (net/http detaches dials from their
	// request) and its connection serves the next request, where a new
	// Transport would leave it idle in the old one.
	var cur atomic.Pointer[generation]
	cur.Store(e.generation(abort, b, rec))
	defer func() { cur.Load().cancel(nil) }()
	wd := newWatchdog(e.ep.Timeout, func() { cur.Load().cancel(timeoutError{e.ep.Timeout}) })
	defer wd.stop()
	body := e.ep.Payload
	rated := g.Rate() > 0
	output := heyOutput
	if rated {
		output = heyOutputRated
		b.sends = make([]send, 0, n)
	}
	work := &requester.Work{
		Request:     e.base,
		RequestBody: body,
		N:           n,
		C:           1,
		Output:      output,
		Writer:      &b.out,
	}
	gen := cur.Load()
	work.RequestFunc = func() *http.Request {
		if wd.idle() {
			// The watchdog cut the request that just ended. Its context
			// is done once the watchdog has cancelled it (it has claimed
			// the timeout, and cancels next): only then is the next
			// generation stored, so that the cancel cannot reach it.
			<-gen.ctx.Done()
			gen = e.generation(abort, b, rec)
			cur.Store(gen)
			wd.rearm()
			// The transport closed the cut request's connection: the
			// next request learns the one it gets.
			b.dialed.Store(true)
		}
		due, ok := g.NextDue()
		if rated && ok {
			b.sends = append(b.sends, send{at: time.Now(), due: due})
		}
		if !ok {
			// The worker's last request has just ended.
			rec.LoadEnded()
			b.turnedAway = true
			done()
			select {
			case <-allDone:
			case <-abort.Done():
			}
			work.Stop() // one Stop on a C=1 Work does not block
			return e.base.Clone(notSent)
		}
		if b.sent > 0 {
			rec.Ended(1)
		}
		b.sent++
		wd.busy()
		ctx, r := gen.traced, gen.plain
		if b.sent == 1 || b.dialed.Swap(false) {
			ctx, r = gen.withConn, gen.plainWithConn
		}
		if r != nil {
			return r
		}
		// A shallow copy: every request shares the base's URL and
		// headers, which neither net/http's Client (no Jar, no redirect
		// rewriting of this request) nor its Transport writes; a deep
		// Clone cost 4 more allocations per request than hey's own copy.
		r = e.base.WithContext(ctx)
		r.Body = io.NopCloser(bytes.NewReader(body))
		return r
	}
	work.Run()
	if b.sent > 0 {
		rec.Ended(1)
	}
	// hey's Transport is not reachable, and would keep the connection
	// open, idle, until the process ends.
	if c := b.getConn(); c != nil {
		c.Close()
	}
	rep := heyReport{rated: rated}
	if err := rep.parse(b.out.Bytes()); err != nil {
		return false, err
	}
	var waits []time.Duration
	if rated {
		var err error
		if waits, err = pair(&rep, b.sends); err != nil {
			return false, err
		}
	}
	e.record(rec, &rep, waits)
	return !b.turnedAway, nil
}

// generation is the context of a batch's requests until a timeout, with
// the batch's traces on it.
type generation struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	// Every request carries traced, which hey composes with its own
	// trace; withConn adds GotConn (which hey sets too, at the cost of a
	// reflect.MakeFunc per request) only on the request after a dial, to
	// learn the connection that the batch must close when it ends.
	traced, withConn context.Context
	// Without a body, the requests are two shared copies of the base,
	// one per trace: hey copies a request before it sends it
	// (WithContext, for its own trace) and nothing writes to it, so a
	// copy per request would be one more allocation than hey's own
	// requests cost. A body is a reader each request consumes: nil.
	plain, plainWithConn *http.Request
}

func (e *engine) generation(abort context.Context, b *batch, rec *load.Recorder) *generation {
	g := &generation{}
	g.ctx, g.cancel = context.WithCancelCause(abort)
	g.traced = httptrace.WithClientTrace(g.ctx, &httptrace.ClientTrace{
		ConnectDone: func(_, _ string, err error) {
			b.dialed.Store(true)
			if err != nil {
				rec.Failed(1)
			}
		},
	})
	g.withConn = httptrace.WithClientTrace(g.traced, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { b.setConn(info.Conn) },
	})
	if len(e.ep.Payload) == 0 {
		g.plain, g.plainWithConn = e.base.WithContext(g.traced), e.base.WithContext(g.withConn)
	}
	return g
}

// pair returns, for each response in rep and then for each request that
// got none (errors), how long it waited after its due time to be sent.
// Response j's request is the first one sent at or after its offset: hey
// stamps the offset just before it asks for the request, and the worker
// sends one request at a time.
func pair(rep *heyReport, sends []send) ([]time.Duration, error) {
	if len(rep.Offsets) > len(sends) {
		return nil, fmt.Errorf("pairing hey's responses with their send times: %d responses for %d requests sent", len(rep.Offsets), len(sends))
	}
	waits := make([]time.Duration, 0, len(sends))
	paired := make([]bool, len(sends))
	i := 0
	for j, off := range rep.Offsets {
		started := heyStart.Add(time.Duration(math.Round(off * float64(time.Second))))
		for i < len(sends) && sends[i].at.Before(started) {
			i++
		}
		if i == len(sends) {
			return nil, fmt.Errorf("pairing hey's responses with their send times: response %d of %d started after the last request was sent", j+1, len(rep.Offsets))
		}
		waits = append(waits, load.Wait(sends[i].due, sends[i].at))
		paired[i] = true
		i++
	}
	for k, s := range sends {
		if !paired[k] {
			waits = append(waits, load.Wait(s.due, s.at))
		}
	}
	return waits, nil
}

// send is when a request was sent, and when it was due.
type send struct{ at, due time.Time }

// batch is one hey Work's state.
type batch struct {
	out bytes.Buffer
	// sent counts requests handed to hey, turnedAway a Gate's no; both
	// belong to the Work's one worker goroutine.
	sent       int
	turnedAway bool
	// sends (at a fixed rate) has every granted request's send and due
	// times, in order.
	sends  []send
	dialed atomic.Bool
	// mu guards conn, the connection.
	mu   sync.Mutex
	conn net.Conn
}

// setConn keeps the connection the batch's requests go on.
func (b *batch) setConn(c net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.conn = c
}

func (b *batch) getConn() net.Conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conn
}

// record hands one batch to the recorder: every response's latency and
// status; errors are transport errors plus responses whose status falls
// in the endpoint's error ranges. The request that was turned away is
// not one. waits (at a fixed rate) has each response's wait, then the
// errors' (which error waited how long does not matter: they have no
// latency, and count only as late or not).
func (e *engine) record(rec *load.Recorder, rep *heyReport, waits []time.Duration) {
	notSent := ": " + errNotSent.Error()
	wait := func(i int) time.Duration {
		if i < len(waits) {
			return waits[i]
		}
		return 0
	}
	rec.Record(func(add func(load.Result)) {
		k := len(rep.StatusCodes)
		for msg, c := range rep.ErrorDist {
			if strings.HasSuffix(msg, notSent) {
				continue
			}
			for range c {
				add(load.Result{NoLatency: true, Error: msg, Wait: wait(k)})
				k++
			}
		}
		for i, code := range rep.StatusCodes {
			r := load.Result{Latency: rep.latency(i), Wait: wait(i)}
			r.Code, r.Error = e.status(code)
			add(r)
		}
	})
}

// status names a status code, and the error it is if it is one.
func (e *engine) status(code int) (name, errMsg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	name, ok := e.codes[code]
	if !ok {
		name = strconv.Itoa(code)
		e.codes[code] = name
		if e.ep.IsError(code) {
			e.statusErrors[code] = fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
		}
	}
	return name, e.statusErrors[code]
}
