// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package httpload

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// timeoutError is the cause of a request that outlived the endpoint's
// timeout: the watchdog cancelled it.
type timeoutError struct{ d time.Duration }

func (e timeoutError) Error() string { return fmt.Sprintf("timeout: no response within %s", e.d) }

// Timeout says it is one, as net/http's own timeouts do.
func (timeoutError) Timeout() bool { return true }

// timedOut is watchdog.due once the watchdog has cut the request.
const timedOut = -1

// watchdog bounds the requests of one batch, one at a time, to a
// timeout: when the request in flight outlives it, fire runs (it
// cancels the context of the batch's current generation). It costs one
// timer per batch, which wakes once per timeout while requests end in
// time, and a clock read per request.
type watchdog struct {
	timeout time.Duration
	origin  time.Time
	fire    func()
	// due is when the request in flight times out, in nanoseconds from
	// origin; 0 between requests; timedOut once fire has run.
	due   atomic.Int64
	ended atomic.Bool
	// timer is nil without a timeout; atomic, as check reads it on the
	// timer's own goroutine.
	timer atomic.Pointer[time.Timer]
}

// newWatchdog starts a watchdog; a timeout of 0 or less never fires.
func newWatchdog(timeout time.Duration, fire func()) *watchdog {
	w := &watchdog{timeout: timeout, origin: time.Now(), fire: fire}
	if timeout > 0 {
		// Stored before it is armed: check, on the timer's goroutine,
		// rearms it.
		t := time.AfterFunc(math.MaxInt64, w.check)
		w.timer.Store(t)
		t.Reset(timeout)
	}
	return w
}

// busy says a request starts now.
func (w *watchdog) busy() {
	if w.timeout <= 0 {
		return
	}
	w.due.Store(int64(time.Since(w.origin) + w.timeout))
}

// idle says the request in flight has ended, and reports whether the
// watchdog cut it (it then waits for rearm).
func (w *watchdog) idle() bool {
	return w.due.Swap(0) == timedOut
}

// rearm watches again after a timeout, once idle has reported it.
func (w *watchdog) rearm() {
	if t := w.timer.Load(); t != nil {
		t.Reset(w.timeout)
	}
}

// stop ends the watchdog with its batch.
func (w *watchdog) stop() {
	w.ended.Store(true)
	if t := w.timer.Load(); t != nil {
		t.Stop()
	}
}

// check runs when the request in flight may be due: it cuts it, or looks
// again when the request now in flight is due (or a timeout from now,
// between requests: the next one is due later than that).
func (w *watchdog) check() {
	for !w.ended.Load() {
		due := w.due.Load()
		if due == timedOut {
			return
		}
		now := int64(time.Since(w.origin))
		if due == 0 || now < due {
			next := w.timeout
			if due != 0 {
				next = time.Duration(due - now)
			}
			w.timer.Load().Reset(next)
			return
		}
		// The request ended between the two reads if due changed: look
		// again.
		if w.due.CompareAndSwap(due, timedOut) {
			w.fire()
			return
		}
	}
}
