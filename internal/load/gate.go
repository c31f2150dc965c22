// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package load

import (
	"sync"
	"sync/atomic"
	"time"
)

// Gate hands out the requests of one phase, one ticket per request: it
// stops at the count, paces tickets at the total rate, and stops
// granting when the phase's time is up or the loop stops it. Engines ask
// it before every request, from any number of goroutines, and never send
// without a ticket; they never need to be stopped from outside.
type Gate struct {
	// tickets is the phase's request count; 0 is unlimited.
	tickets int64
	// rate is total requests per second; 0 is unlimited.
	rate float64
	// start is when the schedule starts: the first ask for a ticket, so
	// that an engine's setup (ghz dials and parses before its first call)
	// does not make the first requests late.
	start     time.Time
	startOnce sync.Once

	taken   atomic.Int64 // tickets asked for, denied ones included
	granted atomic.Int64
	stopped atomic.Bool
	done    chan struct{}
	once    sync.Once
}

// NewGate opens a gate for tickets requests (0: until Stop) at rate
// requests per second in total (0: unlimited), its schedule starting at
// the first ask.
func NewGate(tickets int64, rate float64) *Gate {
	return &Gate{tickets: tickets, rate: rate, done: make(chan struct{})}
}

// Next blocks until the caller may send one request and reports true,
// or reports false when the phase has no more requests to send. Ticket k
// (from 0) is due k/rate after the start; a late caller does not wait,
// and Stop ends every wait.
func (g *Gate) Next() bool {
	_, ok := g.NextDue()
	return ok
}

// NextDue is Next that also says when the request was due: its intended
// send time on the phase's schedule (the zero Time without a rate). A
// caller that comes after that time (every connection was busy) sends at
// once, late, and its latency counts from the due time. A caller that
// came early waited here for the timer, which may fire up to about a
// millisecond late; that lateness is the client's own, not a wait for a
// connection, so its intended time is when the timer let it through.
func (g *Gate) NextDue() (time.Time, bool) {
	if g.stopped.Load() {
		return time.Time{}, false
	}
	k := g.taken.Add(1) - 1
	if g.tickets > 0 && k >= g.tickets {
		return time.Time{}, false
	}
	var due time.Time
	if g.rate > 0 {
		g.startOnce.Do(func() { g.start = time.Now() })
		due = g.start.Add(time.Duration(float64(k) / g.rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-g.done:
				t.Stop()
				return time.Time{}, false
			}
			due = time.Now()
		}
	}
	if g.stopped.Load() {
		return time.Time{}, false
	}
	g.granted.Add(1)
	return due, true
}

// Wait is how long after due a request sent at sent waited for its turn:
// 0 without a due time (no rate) or when it was sent on time.
func Wait(due, sent time.Time) time.Duration {
	if due.IsZero() {
		return 0
	}
	return max(0, sent.Sub(due))
}

// Open reports whether tickets may remain: not stopped, count not reached.
// Engines check it before they set up another batch.
func (g *Gate) Open() bool {
	return !g.stopped.Load() && (g.tickets == 0 || g.taken.Load() < g.tickets)
}

// Remaining is the count's tickets not yet taken, or -1 without a count.
func (g *Gate) Remaining() int64 {
	if g.tickets == 0 {
		return -1
	}
	return max(0, g.tickets-g.taken.Load())
}

// Workers is how many of want workers the gate can keep busy: no more
// than its tickets, when it has a count.
func (g *Gate) Workers(want int) int {
	if g.tickets > 0 {
		return int(min(int64(want), g.tickets))
	}
	return want
}

// Granted is how many requests the gate let through.
func (g *Gate) Granted() int64 { return g.granted.Load() }

// Rate is the gate's total rate, 0 for unlimited.
func (g *Gate) Rate() float64 { return g.rate }

// Stop grants no more tickets and ends every wait for one.
func (g *Gate) Stop() {
	g.once.Do(func() {
		g.stopped.Store(true)
		close(g.done)
	})
}
