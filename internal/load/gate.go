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
	rate  float64
	start time.Time

	taken   atomic.Int64 // tickets asked for, denied ones included
	granted atomic.Int64
	stopped atomic.Bool
	done    chan struct{}
	once    sync.Once
}

// NewGate opens a gate for tickets requests (0: until Stop) at rate
// requests per second in total (0: unlimited), starting now.
func NewGate(tickets int64, rate float64) *Gate {
	return &Gate{tickets: tickets, rate: rate, start: time.Now(), done: make(chan struct{})}
}

// Next blocks until the caller may send one request and reports true,
// or reports false when the phase has no more requests to send. Ticket k
// (from 0) is due k/rate after the start; a late caller does not wait,
// and Stop ends every wait.
func (g *Gate) Next() bool {
	if g.stopped.Load() {
		return false
	}
	k := g.taken.Add(1) - 1
	if g.tickets > 0 && k >= g.tickets {
		return false
	}
	if g.rate > 0 {
		due := g.start.Add(time.Duration(float64(k) / g.rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-g.done:
				t.Stop()
				return false
			}
		}
	}
	if g.stopped.Load() {
		return false
	}
	g.granted.Add(1)
	return true
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
