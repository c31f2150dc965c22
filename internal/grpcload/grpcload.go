package grpcload

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bojand/ghz/runner"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
)

// dialTimeout bounds each connection ghz opens.
const dialTimeout = 10 * time.Second

// Work is one run of the grpc task: every endpoint, one after another.
type Work struct {
	Endpoints []Endpoint
	// Log gets progress lines; nil discards them.
	Log *slog.Logger
	// ProgressEvery is the interval of progress lines; 0 means 5s.
	ProgressEvery time.Duration
}

// Run sends the load and returns what was measured; it stops early, with
// ctx's error, when ctx is done.
func (w *Work) Run(ctx context.Context) (*metrics.File, error) {
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &metrics.File{Task: experiment.TaskGRPC, StartTime: time.Now().UTC()}
	for _, ep := range w.Endpoints {
		prefix := ep.MetricPrefix()
		if ep.Unresolved != "" {
			log.Warn(prefix + ": " + ep.Unresolved)
		}
		if ep.WarmupCount > 0 || ep.WarmupDuration > 0 {
			log.Info(fmt.Sprintf("%s: warmup %s", prefix, amount(ep.WarmupCount, ep.WarmupDuration)))
			if _, err := w.load(ctx, log, ep, ep.WarmupCount, ep.WarmupDuration, 0, prefix+" warmup"); err != nil {
				return nil, err
			}
		}
		log.Info(fmt.Sprintf("%s: %s at %s, %s, concurrency %d, %d connections, %s", prefix, ep.Call, ep.Host,
			amount(ep.Count, ep.Duration), ep.Workers, ep.Connections, rate(int(ep.Rate))))
		rep, err := w.load(ctx, log, ep, ep.Count, ep.Duration, ep.SkipFirst, prefix)
		if err != nil {
			return nil, err
		}
		m := toEndpoint(ep, rep)
		log.Info(fmt.Sprintf("%s: done, %d calls, %d errors, %.1fs", prefix, m.RequestCount, m.ErrorCount, m.DurationSeconds))
		f.Endpoints = append(f.Endpoints, m)
	}
	f.EndTime = time.Now().UTC()
	return f, nil
}

// load runs n calls (or for d) at one endpoint through ghz.
func (w *Work) load(ctx context.Context, log *slog.Logger, ep Endpoint, n int64, d time.Duration, skip int64, label string) (*runner.Report, error) {
	var done, failed atomic.Int64
	onFinish := grpc.OnFinish(func(err error) {
		done.Add(1)
		if err != nil {
			failed.Add(1)
		}
	})
	stopAfter := time.Duration(0)
	switch {
	case d > 0 && ep.Rate > 0:
		// A rated duration run sends exactly rate x duration calls; the
		// timer only guards against a server too slow to keep up.
		n = max(1, int64(math.Round(ep.Rate*d.Seconds())))
		stopAfter = d + time.Second
	case d > 0:
		n = math.MaxInt32
		stopAfter = d
	}
	// As in ghz, skipped calls are part of the total.
	total := n
	opts := []runner.Option{
		runner.WithProtosetBinary(ep.Protoset),
		runner.WithTotalRequests(uint(min(total, math.MaxInt32))),
		runner.WithConcurrency(uint(ep.Workers)),
		runner.WithConnections(uint(ep.Connections)),
		runner.WithRPS(uint(ep.Rate)),
		runner.WithTimeout(ep.Timeout),
		runner.WithDialTimeout(dialTimeout),
		runner.WithInsecure(ep.Insecure),
		runner.WithSkipFirst(uint(skip)),
		runner.WithCountErrors(true),
		// In-flight calls finish when a duration ends, rather than being
		// cut off and counted as errors.
		runner.WithDurationStopAction("wait"),
		runner.WithCPUs(uint(runtime.GOMAXPROCS(0))),
		runner.WithDefaultCallOptions([]grpc.CallOption{
			onFinish, grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32),
		}),
	}
	if !ep.Insecure && ep.CACert != "" {
		opts = append(opts, runner.WithRootCertificate(ep.CACert))
	}
	data := "{}" // ghz needs data; no data is the empty message
	if len(ep.Data) > 0 {
		data = string(ep.Data)
	}
	opts = append(opts, runner.WithDataFromJSON(data))
	if len(ep.Metadata) > 0 {
		opts = append(opts, runner.WithMetadata(ep.Metadata))
	}
	cfg, err := runner.NewConfig(ep.Call, ep.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: configuring ghz: %w", label, err)
	}
	reqr, err := runner.NewRequester(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: preparing ghz: %w", label, err)
	}

	var stopOnce sync.Once
	var mu sync.Mutex
	finished := false
	// ghz's Stop sends on a channel Run closes when it returns, and blocks
	// on a second call: stop at most once, and never after Run.
	stop := func(reason runner.StopReason) {
		stopOnce.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			if !finished {
				reqr.Stop(reason)
			}
		})
	}
	type outcome struct {
		rep *runner.Report
		err error
	}
	result := make(chan outcome, 1)
	go func() {
		rep, err := reqr.Run()
		mu.Lock()
		finished = true
		mu.Unlock()
		result <- outcome{rep, err}
	}()

	every := w.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var timeout <-chan time.Time
	if stopAfter > 0 {
		t := time.NewTimer(stopAfter)
		defer t.Stop()
		timeout = t.C
	}
	start := time.Now()
	ctxDone := ctx.Done()
	for {
		select {
		case o := <-result:
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("%s: load stopped: %w", label, context.Cause(ctx))
			}
			// ghz's own errors (not the calls') mean the load did not run.
			if o.err != nil {
				return nil, fmt.Errorf("%s: ghz: %w", label, o.err)
			}
			return o.rep, nil
		case <-ctxDone:
			stop(runner.ReasonCancel)
			ctxDone = nil
		case <-timeout:
			stop(runner.ReasonTimeout)
			timeout = nil
		case <-tick.C:
			of := ""
			if stopAfter == 0 || ep.Rate > 0 {
				of = "/" + strconv.FormatInt(total, 10)
			}
			log.Info(fmt.Sprintf("%s: %d%s calls done, %d errors so far, %.0fs", label, done.Load(), of, failed.Load(), time.Since(start).Seconds()))
		}
	}
}

// toEndpoint turns ghz's per-call details into metrics. Every call that
// did not end OK is an error; calls that failed without reaching the
// server (Unavailable) have no latency.
func toEndpoint(ep Endpoint, rep *runner.Report) *metrics.Endpoint {
	m := &metrics.Endpoint{
		Task:            experiment.TaskGRPC,
		Name:            ep.Name,
		Target:          ep.Call + " at " + ep.Host,
		RequestCount:    int64(rep.Count),
		Errors:          map[string]int64{},
		StatusCodes:     map[string]int64{},
		Percentiles:     ep.Percentiles,
		DurationSeconds: rep.Total.Seconds(),
		Latency:         metrics.NewHistogram(),
	}
	if ep.ServerStreaming {
		m.Note = "server streaming: one call per stream, latency of the whole stream"
	}
	if ep.Unresolved != "" {
		m.Note = ep.Unresolved
	}
	for code, c := range rep.StatusCodeDist {
		m.StatusCodes[code] += int64(c)
		if code != codes.OK.String() {
			m.ErrorCount += int64(c)
		}
	}
	for _, d := range rep.Details {
		if d.Status != codes.Unavailable.String() {
			metrics.RecordLatency(m.Latency, d.Latency)
		}
		if d.Status != codes.OK.String() {
			msg := d.Error
			if msg == "" {
				msg = d.Status
			}
			m.Errors[msg]++
		}
	}
	return m
}

func amount(n int64, d time.Duration) string {
	if d > 0 {
		return "for " + d.String()
	}
	return strconv.FormatInt(n, 10) + " calls"
}

func rate(rps int) string {
	if rps == 0 {
		return "no rate limit"
	}
	return strconv.Itoa(rps) + " calls/s in total"
}
