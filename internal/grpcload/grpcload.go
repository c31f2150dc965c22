package grpcload

import (
	"context"
	"fmt"
	"log/slog"
	"math"
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

	// batch overrides DefaultBatch (tests).
	batch int
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
			Engine:    &engine{ep: ep, batch: batch},
		})
	}
	return load.Loop{Task: experiment.TaskGRPC, Unit: "calls", FailureNoun: "errors", Log: w.Log, ProgressEvery: w.ProgressEvery}.Run(ctx, eps)
}

// engine is ghz behind the load loop, for one endpoint.
type engine struct {
	ep    Endpoint
	batch int
}

// Send runs ghz Requesters one after another until the gate grants no
// more. ghz's own pacer is replaced by the gate, so ghz never needs to
// be stopped, except to abort calls in flight.
func (e *engine) Send(abort context.Context, g *load.Gate, rec *load.Recorder) error {
	onFinish := grpc.OnFinish(func(err error) {
		rec.Ended(1)
		if err != nil {
			rec.Failed(1)
		}
	})
	for g.Open() {
		n := e.batch
		if r := g.Remaining(); r >= 0 {
			n = int(min(int64(n), r))
		}
		more, err := e.requester(abort, g, rec, n, onFinish)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// requester runs one ghz Requester of at most n calls and records them;
// it reports whether the gate may grant more.
func (e *engine) requester(abort context.Context, g *load.Gate, rec *load.Recorder, n int, onFinish grpc.CallOption) (bool, error) {
	reqr, pacer, err := e.newRequester(g, n, onFinish)
	if err != nil {
		return false, err
	}
	rep, err := runOrAbort(abort, reqr)
	// ghz's own errors (not the calls') mean the load did not run.
	if err != nil {
		return false, fmt.Errorf("ghz: %w", err)
	}
	record(rec, rep)
	return !pacer.turnedAway.Load(), nil
}

// newRequester makes a ghz Requester of at most n calls, each granted by g.
func (e *engine) newRequester(g *load.Gate, n int, onFinish grpc.CallOption) (*runner.Requester, *batchPacer, error) {
	ep := e.ep
	pacer := &batchPacer{gate: g, max: uint64(n)}
	data := "{}" // ghz needs data; no data is the empty message
	if len(ep.Data) > 0 {
		data = string(ep.Data)
	}
	callOpts := []grpc.CallOption{grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)}
	if onFinish != nil {
		callOpts = append(callOpts, onFinish)
	}
	opts := []runner.Option{
		runner.WithProtosetBinary(ep.Protoset),
		runner.WithTotalRequests(uint(n)),
		runner.WithConcurrency(uint(ep.Workers)),
		runner.WithConnections(uint(ep.Connections)),
		runner.WithPacer(pacer),
		runner.WithWorkerTicker(newWorkerTicker(ep.Workers)),
		runner.WithTimeout(ep.Timeout),
		runner.WithDialTimeout(dialTimeout),
		runner.WithInsecure(ep.Insecure),
		runner.WithDataFromJSON(data),
		// Stop is only called to abort calls in flight: it closes the
		// connections.
		runner.WithDurationStopAction("close"),
		runner.WithDefaultCallOptions(callOpts),
	}
	if !ep.Insecure && ep.CACert != "" {
		opts = append(opts, runner.WithRootCertificate(ep.CACert))
	}
	if len(ep.Metadata) > 0 {
		opts = append(opts, runner.WithMetadata(ep.Metadata))
	}
	cfg, err := runner.NewConfig(ep.Call, ep.Host, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("configuring ghz: %w", err)
	}
	reqr, err := runner.NewRequester(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("preparing ghz: %w", err)
	}
	return reqr, pacer, nil
}

// stopper is the part of ghz's Requester that run drives.
type stopper interface {
	Run() (*runner.Report, error)
	Stop(runner.StopReason)
}

// runOrAbort runs r and returns its report; when abort is done first, it stops
// r, which closes its connections and so ends its calls in flight.
//
// ghz's Stop sends on a channel that Run closes when it returns (a send
// on a closed channel panics), and blocks if called twice: r is stopped
// at most once, never after runOrAbort has seen Run return, and a Stop that
// races with Run's return recovers from that send.
func runOrAbort(abort context.Context, r stopper) (*runner.Report, error) {
	type outcome struct {
		rep *runner.Report
		err error
	}
	var returned atomic.Bool
	done := make(chan outcome, 1)
	go func() {
		rep, err := r.Run()
		returned.Store(true)
		done <- outcome{rep, err}
	}()
	select {
	case o := <-done:
		return o.rep, o.err
	case <-abort.Done():
	}
	if !returned.Load() {
		stopOnce(r)
	}
	o := <-done
	return o.rep, o.err
}

// stopOnce calls Stop, which panics when Run has just returned.
func stopOnce(r stopper) {
	defer func() { _ = recover() }()
	r.Stop(runner.ReasonCancel)
}

// workerTicker starts all of ghz's workers at once, as ghz's own
// ConstWorkerTicker does, but may be finished before it has started
// them. ghz finishes the ticker (closes its channel) as soon as the pacer
// says stop, which can come before the ticker's Run has sent: with
// ghz's ticker, that send panics in a goroutine of ghz's (seen when the
// gate grants nothing to a Requester, or when it is stopped at once).
type workerTicker struct {
	c    chan ghzload.TickValue
	n    int
	stop chan struct{}
	ran  chan struct{}
}

func newWorkerTicker(n int) *workerTicker {
	return &workerTicker{c: make(chan ghzload.TickValue), n: n, stop: make(chan struct{}), ran: make(chan struct{})}
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
	close(t.stop)
	<-t.ran
	close(t.c)
}

// batchPacer is ghz's pacer for one Requester: it grants at most max
// calls, each only with a ticket from the gate, and waits inside the
// gate for the rate. ghz asks it before every call; hits is how many
// calls it has started.
type batchPacer struct {
	gate       *load.Gate
	max        uint64
	turnedAway atomic.Bool
}

func (p *batchPacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.max {
		return 0, true
	}
	if !p.gate.Next() {
		p.turnedAway.Store(true)
		return 0, true
	}
	return 0, false
}

func (p *batchPacer) Rate(time.Duration) float64 { return p.gate.Rate() }

// record hands one Requester's calls to the recorder. Every call that
// did not end OK is an error; calls that failed without reaching the
// server (Unavailable) have no latency.
func record(rec *load.Recorder, rep *runner.Report) {
	rec.Record(func(add func(load.Result)) {
		for _, d := range rep.Details {
			r := load.Result{Latency: d.Latency, Code: d.Status, NoLatency: d.Status == codes.Unavailable.String()}
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
