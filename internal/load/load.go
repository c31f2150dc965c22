// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package load is the load loop the http and grpc steps share. It decides
// how many requests to send, for how long and at what rate, runs the
// warmup, logs progress, and stops a load at its end or on cancel. The
// engines that send the requests (hey, ghz) are small adapters behind the
// Engine interface: they send while a Gate grants tickets and hand their
// results, batch by batch, to a Recorder.
//
// A load never stops an engine from outside: the Gate stops granting (at
// the count, at the end of the duration, or on cancel), and the engine
// ends once its requests in flight end. On cancel, those get Grace to
// finish; then the abort context is cancelled, which ends them at once.
//
// It also holds what the load steps (httpload.Step, grpcload.Step) share
// around the loop: whether to send at all after the ready task
// (HoldForReady), how the metrics of a load that ended are written
// (Save), and how a stop is told (Stopped). A load step stopped by SIGTERM
// (Tekton's cancel and timeout) or SIGINT ends within 5 s: the load
// returns what it measured so far, the step writes it to
// <dir>/<task>.metrics.json (marked stopped) and ends with an error, so
// the command exits 3. It links neither load generator.
package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/autox-tekton/autox/internal/cpucache"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
)

const (
	// Grace is how long requests in flight may finish after a cancel
	// before they are aborted.
	Grace = time.Second
	// giveUp is how long after the abort the loop still waits for an
	// engine before it returns what was recorded without it: a cancelled
	// Run returns within Grace + giveUp, whatever the server does.
	giveUp = 1500 * time.Millisecond
	// lateAllowance is how long past its duration a rated run may still
	// start requests that fell behind its schedule (a server too slow to
	// keep up); then it stops with what it sent.
	lateAllowance = time.Second
	// defaultProgressEvery is the interval of progress lines.
	defaultProgressEvery = 5 * time.Second
)

// Ballast is how many bytes a load holds, never written, while it runs.
// The loop keeps little alive (results are folded into histograms batch
// by batch), so the GC, which collects whenever the heap has grown by
// what is alive, would run many times more often than in hey and ghz,
// whose result buffers hold it back: measured, about 10% of throughput.
// The ballast gives the GC that slack; never written, its pages are not
// resident, but the heap it lets grow between collections is: about
// twice the ballast.
//
// The slack costs memory the CPU must bring in. Until the heap first
// reaches its goal, every allocation is on memory never touched (a page
// fault, and last-level misses whatever the cache's size: cachegrind
// counts 80 misses per request with 64 MB over a 10000-request run,
// with a 32 MiB or a 512 MiB cache alike, and 14 with 8 MB); after
// that, the heap cycles through its goal, which stays in cache only if
// the last-level cache holds it. With 8 MB instead of 64, collections
// cost 7% more instructions per request. On a CPU with a 480 MiB L3,
// 64 MB won by 3-6%; on one with 32 MiB it ran at 0.87x hey. So the
// ballast is a quarter of the last-level cache (the heap then takes
// about half of it), between 8 MB and 64 MB; 16 MB when sysfs does not
// say.
func Ballast() int { return ballast() }

var ballast = sync.OnceValue(func() int {
	c, ok := cpucache.LastLevel(cpucache.SysfsDir)
	return BallastFor(c.Bytes, ok)
})

// BallastFor is the ballast for a last-level cache of llc bytes (known
// says whether it was read).
func BallastFor(llc int64, known bool) int {
	const minBallast, maxBallast, unknown = 8 << 20, 64 << 20, 16 << 20
	if !known {
		return unknown
	}
	return int(min(max(llc/4, minBallast), maxBallast))
}

// Prefault touches n bytes of heap and lets them go, so that a load's
// allocations land on pages already resident. The heap a load cycles
// through is about twice the ballast above it (the ballast itself is
// never touched); brought in during the load, it cost a page fault per
// 4 KiB: on a paravirtualised 2-core EPYC, 2,000 faults in a
// 20,000-request run and 8% of its throughput (0.968 -> 1.048 of hey
// by count with 16 MB, 12 bracketed rounds), and latency on the
// requests that met them. Touching 16 MB takes 10-30 ms, before the
// clock starts; the pages stay resident while the heap's goal covers
// them (the runtime's scavenger returns only what exceeds it).
func Prefault(n int) {
	const chunk = 64 << 10
	page := os.Getpagesize()
	chunks := make([][]byte, 0, n/chunk)
	for range n / chunk {
		b := make([]byte, chunk)
		for i := 0; i < len(b); i += page {
			b[i] = 1
		}
		chunks = append(chunks, b)
	}
	runtime.KeepAlive(chunks)
	runtime.GC()
}

// PrefaultBytes is what a load prefaults before it starts: twice the
// ballast.
func PrefaultBytes() int { return 2 * Ballast() }

// ErrAborted is the cause of the requests that were still in flight when
// Grace ran out after a cancel.
var ErrAborted = errors.New("load stopped: request aborted in flight")

// Engine sends one endpoint's requests.
type Engine interface {
	// Send sends requests while g grants them, hands every result to
	// rec, and returns when g grants no more and the requests in flight
	// have ended. Requests still in flight when abort is done must end
	// at once. Its error means the engine failed, not a request.
	Send(abort context.Context, g *Gate, rec *Recorder) error
}

// Endpoint is one endpoint to load.
type Endpoint struct {
	experiment.Traffic
	// Metrics has what only the caller knows (Task, Name, Target, Note,
	// Percentiles); the loop fills in what was measured.
	Metrics *metrics.Endpoint
	// Warning, if set, is logged before the endpoint's load.
	Warning string
	// Describe is logged, after the metric prefix, before the measured
	// load: what is sent where, how, on how many connections.
	Describe string
	// SkipFirst results of the measured load are left out of the metrics.
	SkipFirst int64
	// Busy names what was busy when requests of a fixed-rate load were
	// sent late, and what to raise: "all 4 connections were busy; raise
	// connections".
	Busy string
	// Engine sends the requests; Send is called once per phase (warmup,
	// then the measured load).
	Engine Engine
}

// Loop runs endpoints one after another.
type Loop struct {
	// Task is http or grpc.
	Task string
	// Unit names what is sent, plural: requests, calls.
	Unit string
	// FailureNoun names what Recorder.Failed counts in progress lines,
	// plural: "errors", "connection errors".
	FailureNoun string
	// Log gets progress lines; nil discards them.
	Log *slog.Logger
	// ProgressEvery is the interval of progress lines; 0 means 5s.
	ProgressEvery time.Duration
	// StartAt, when set, is when the first endpoint's load (its warmup,
	// if any) begins: the loop sets itself up, then waits for it, so
	// that workers told the same instant start their loads together. A
	// time past starts at once.
	StartAt time.Time
}

// Run loads every endpoint and returns what was measured. When ctx is
// done it stops within Grace + giveUp and returns, with an error that
// wraps context.Cause(ctx), a File that holds what was measured so far
// and says in Stopped where the load stopped.
func (l Loop) Run(ctx context.Context, eps []Endpoint) (*metrics.File, error) {
	log := l.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ballast := make([]byte, Ballast())
	defer runtime.KeepAlive(ballast)
	Prefault(PrefaultBytes())
	// A cancel while waiting is told by the first endpoint: stopped
	// before it started.
	_ = WaitUntil(ctx, l.StartAt, log)
	f := &metrics.File{Task: l.Task, StartTime: time.Now().UTC()}
	for i, ep := range eps {
		prefix := ep.Metrics.Prefix()
		if ctx.Err() != nil {
			return l.stopped(ctx, log, f, prefix, eps[i+1:], fmt.Sprintf("%s: stopped before it started (%v)", prefix, context.Cause(ctx)))
		}
		if ep.Warning != "" {
			log.Warn(prefix + ": " + ep.Warning)
		}
		if ep.WarmupCount > 0 || ep.WarmupDuration > 0 {
			log.Info(fmt.Sprintf("%s: warmup %s", prefix, l.amount(ep.WarmupCount, ep.WarmupDuration)))
			p, err := l.phase(ctx, log, ep, prefix+" warmup", ep.WarmupCount, ep.WarmupDuration, 0, 0)
			if err != nil {
				return nil, err
			}
			if p.stopped {
				return l.stopped(ctx, log, f, prefix, eps[i+1:], fmt.Sprintf("%s: stopped during its warmup after %.1fs (%v); nothing measured",
					prefix, p.stoppedAt.Seconds(), context.Cause(ctx)))
			}
		}
		log.Info(prefix + ": " + ep.Describe)
		p, err := l.phase(ctx, log, ep, prefix, ep.Count, ep.Duration, ep.SkipFirst, ep.RatedCount)
		if err != nil {
			return nil, err
		}
		m := ep.Metrics
		p.rec.close(m)
		m.DurationSeconds = p.took.Seconds()
		m.Rate = ep.Rate
		for _, line := range l.late(prefix, ep, m, p.notSent) {
			log.Warn(line)
		}
		f.Endpoints = append(f.Endpoints, m)
		if p.stopped {
			var why string
			if ep.Duration > 0 {
				why = fmt.Sprintf("%s: stopped after %.1fs of %s (%v); %d %s measured",
					prefix, p.stoppedAt.Seconds(), ep.Duration, context.Cause(ctx), m.RequestCount, l.Unit)
			} else {
				why = fmt.Sprintf("%s: stopped after %.1fs (%v); %d of %d %s measured",
					prefix, p.stoppedAt.Seconds(), context.Cause(ctx), m.RequestCount, ep.Count-ep.SkipFirst, l.Unit)
			}
			return l.stopped(ctx, log, f, prefix, eps[i+1:], why)
		}
		log.Info(fmt.Sprintf("%s: done, %d %s, %d errors, %.1fs", prefix, m.RequestCount, l.Unit, m.ErrorCount, p.took.Seconds()))
	}
	f.EndTime = time.Now().UTC()
	return f, nil
}

// stopped finishes a File that ctx stopped at endpoint prefix: why, and
// the endpoints that did not run.
func (l Loop) stopped(ctx context.Context, log *slog.Logger, f *metrics.File, prefix string, notRun []Endpoint, why string) (*metrics.File, error) {
	var names []string
	for _, ep := range notRun {
		names = append(names, ep.Metrics.Prefix())
	}
	if len(names) > 0 {
		why += "; not run: " + strings.Join(names, ", ")
	}
	f.Stopped = why
	f.EndTime = time.Now().UTC()
	log.Warn(why)
	return f, fmt.Errorf("%s: load stopped: %w", prefix, context.Cause(ctx))
}

// late says that a fixed-rate load could not keep its schedule: how many
// requests went out late and why, and how many were never sent; one
// short line each (the Tekton Dashboard's log pane does not wrap).
func (l Loop) late(prefix string, ep Endpoint, m *metrics.Endpoint, notSent int64) []string {
	var lines []string
	if m.LateCount > 0 {
		lines = append(lines, fmt.Sprintf("%s: %d of %d %s went out more than %s late: %s",
			prefix, m.LateCount, m.RequestCount, l.Unit, LateAfter, ep.Busy))
	}
	if notSent > 0 {
		lines = append(lines, fmt.Sprintf("%s: %d %s were never sent: a load at a rate stops %s after its duration",
			prefix, notSent, l.Unit, lateAllowance))
	}
	return lines
}

// phase is what one phase (warmup or measured load) recorded.
type phase struct {
	rec *Recorder
	// took is how long the phase sent (Recorder.took).
	took time.Duration
	// notSent counts the requests of a fixed-rate load that its
	// duration's end (plus lateAllowance) left unsent.
	notSent int64
	// stopped is true when ctx ended the phase before its end, at
	// stoppedAt from its start.
	stopped   bool
	stoppedAt time.Duration
}

// phase sends count requests, or sends for d, at ep's rate on ep's
// engine. A rated run for a duration sends rate x d requests.
func (l Loop) phase(ctx context.Context, log *slog.Logger, ep Endpoint, label string, count int64, d time.Duration, skip, rated int64) (*phase, error) {
	tickets, deadline := count, time.Duration(0)
	switch {
	case count > 0:
	case ep.Rate > 0:
		tickets = max(1, int64(math.Round(ep.Rate*d.Seconds())))
		if rated > 0 {
			// A worker's share of the whole load's rate x duration.
			tickets = rated
		}
		deadline = d + lateAllowance
	default:
		deadline = d
	}
	g := NewGate(tickets, ep.Rate)
	p := &phase{rec: NewRecorder(skip, ep.Rate > 0)}
	// The abort context outlives ctx by Grace: requests are made with it,
	// so a cancel does not cut them at once.
	abortCtx, abort := context.WithCancelCause(context.WithoutCancel(ctx))
	defer abort(ErrAborted)

	start := time.Now()
	p.rec.start = start
	sent := make(chan error, 1)
	go func() { sent <- ep.Engine.Send(abortCtx, g, p.rec) }()

	var deadlineC, graceC, giveUpC <-chan time.Time
	if deadline > 0 {
		t := time.NewTimer(deadline)
		defer t.Stop()
		deadlineC = t.C
	}
	every := l.ProgressEvery
	if every <= 0 {
		every = defaultProgressEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	of := ""
	if tickets > 0 {
		of = "/" + strconv.FormatInt(tickets, 10)
	}
	ctxDone := ctx.Done()
	for {
		select {
		case err := <-sent:
			p.took = p.rec.took(time.Now())
			if err != nil && p.stopped {
				log.Warn(fmt.Sprintf("%s: while stopping: %v", label, err))
				err = nil
			}
			return p, err
		case <-deadlineC:
			g.Stop()
			if ep.Rate > 0 && !p.stopped {
				p.notSent = tickets - g.Granted()
			}
		case <-ctxDone:
			ctxDone = nil
			p.stopped, p.stoppedAt = true, time.Since(start)
			g.Stop()
			graceC = time.After(Grace)
		case <-graceC:
			log.Warn(fmt.Sprintf("%s: %s still in flight %s after the stop are aborted", label, l.Unit, Grace))
			abort(ErrAborted)
			giveUpC = time.After(giveUp)
		case <-giveUpC:
			p.took = time.Since(start)
			log.Warn(fmt.Sprintf("%s: the engine did not end %s after its %s were aborted; keeping what it recorded", label, giveUp, l.Unit))
			return p, nil
		case <-tick.C:
			ended := min(p.rec.ended.Load(), g.Granted())
			late := ""
			if n := p.rec.lateNow.Load(); n > 0 {
				late = fmt.Sprintf(", %d sent late", n)
			}
			log.Info(fmt.Sprintf("%s: %d%s %s done, %d %s%s so far, %.0fs", label, ended, of, l.Unit,
				p.rec.failed.Load(), l.FailureNoun, late, time.Since(start).Seconds()))
		}
	}
}

// amount says how much a phase sends: "200 requests" or "for 10s".
func (l Loop) amount(n int64, d time.Duration) string {
	if d > 0 {
		return "for " + d.String()
	}
	return strconv.FormatInt(n, 10) + " " + l.Unit
}

// Amount is how much a phase sends, for log lines: "200 requests" or
// "for 10s".
func Amount(t experiment.Traffic, unit string) string {
	return Loop{Unit: unit}.amount(t.Count, t.Duration)
}

// Rate says a total rate for log lines: "50 requests/s in total".
func Rate(rate float64, unit string) string {
	if rate == 0 {
		return "no rate limit"
	}
	return strconv.FormatFloat(rate, 'g', -1, 64) + " " + unit + "/s in total"
}

// Workers is how many of want workers a phase of t can keep busy: no more
// than the requests it sends, when that number is known.
func Workers(t experiment.Traffic, want int) int {
	n := t.Count
	if n == 0 && t.Rate > 0 {
		n = t.RatedTotal()
	}
	if n > 0 {
		return int(min(int64(want), n))
	}
	return want
}
