// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package httpload

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/test/apps/conncount"
)

// TestTimeoutCutsRequest: a request that outlives http.timeout fails with
// a timeout error after about the timeout, the server sees it cut, and
// the load goes on, on a new connection, with every request counted.
func TestTimeoutCutsRequest(t *testing.T) {
	var n, cut atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			select {
			case <-r.Context().Done():
				cut.Add(1)
			case <-time.After(10 * time.Second):
			}
			return
		}
		w.Write([]byte("ok"))
	})
	srv := httptest.NewUnstartedServer(h)
	conns := conncount.Wrap(srv.Listener)
	srv.Listener = conns
	srv.Start()
	t.Cleanup(srv.Close)
	url := srv.URL + "/slow-every-third"

	eps := endpoints(t, "tasks: [http]\nhttp: {url: "+url+", numRequests: 12, connections: 2, qps: unlimited}\n")
	// Under http.timeout's 1s minimum, for a short test.
	eps[0].Timeout = 300 * time.Millisecond
	start := time.Now()
	f := run(t, eps)
	took := time.Since(start)
	e := f.Endpoints[0]
	want := map[string]int64{`Get "` + url + `": timeout: no response within 300ms`: 4}
	if diff := cmp.Diff(want, e.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if e.RequestCount != 12 || e.ErrorCount != 4 {
		t.Errorf("%d requests, %d errors; want 12 and the 4 that hung", e.RequestCount, e.ErrorCount)
	}
	if got := n.Load(); got != 12 {
		t.Errorf("the server saw %d requests, want 12", got)
	}
	// Four hangs of 300ms on two connections: 600ms at least; a missed
	// cut would take 10s.
	if took < 600*time.Millisecond || took > 3*time.Second {
		t.Errorf("the load took %v, want 0.6-3s (four timeouts of 300ms on two connections)", took)
	}
	// A cut request's connection is closed, and its worker goes on on a
	// new one: two to start, and one after each cut but the last of a
	// worker.
	if got := conns.Accepted(); got < 3 || got > 6 {
		t.Errorf("the server accepted %d connections, want 3-6: 2, and one after each cut the worker sent more after", got)
	}
	waitClosed(t, conns)
	if got := cut.Load(); got != 4 {
		t.Errorf("the server saw %d requests cut, want 4", got)
	}
}

// TestWatchdog: it fires once, for a request in flight past its timeout,
// never between requests nor for a request that ended in time.
func TestWatchdog(t *testing.T) {
	const timeout = 100 * time.Millisecond
	for _, tc := range []struct {
		name string
		// steps run in turn, each after the pause before it.
		steps    []func(w *watchdog)
		wantFire int64
	}{
		{"idle", nil, 0},
		{"in flight past its timeout", []func(*watchdog){(*watchdog).busy}, 1},
		{"ended in time", []func(*watchdog){(*watchdog).busy, func(w *watchdog) { w.idle() }}, 0},
		{"one in time, the next past its timeout", []func(*watchdog){(*watchdog).busy, func(w *watchdog) { w.idle() }, (*watchdog).busy}, 1},
		{"each in time, in all longer than a timeout", []func(*watchdog){(*watchdog).busy, (*watchdog).busy, (*watchdog).busy, (*watchdog).busy, func(w *watchdog) { w.idle() }}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fired atomic.Int64
			w := newWatchdog(timeout, func() { fired.Add(1) })
			defer w.stop()
			for _, step := range tc.steps {
				step(w)
				time.Sleep(timeout / 2)
			}
			time.Sleep(timeout + timeout/2)
			if got := fired.Load(); got != tc.wantFire {
				t.Errorf("fired %d times, want %d", got, tc.wantFire)
			}
			if tc.wantFire > 0 && !w.idle() {
				t.Errorf("idle() after it fired = false, want true (the batch must end)")
			}
		})
	}
	t.Run("no timeout", func(t *testing.T) {
		w := newWatchdog(0, func() { t.Error("a watchdog without a timeout fired") })
		w.busy()
		time.Sleep(50 * time.Millisecond)
		if w.idle() {
			t.Error("idle() = true without a timeout")
		}
		w.stop()
	})
}

// TestTimeoutsLeaveFewConnectionsOpen: timeouts short enough to cut
// requests while their connection is still being dialled (net/http goes
// on with such a dial, detached from the request) do not leave a
// connection open per cut: the dialled connection serves the batch's
// next request, on the same Transport. One dial in flight when a batch
// ends can land, idle, in its Transport: at most one per connection.
// The endpoint is built here, as http.timeout is 1s at least.
func TestTimeoutsLeaveFewConnectionsOpen(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	srv := httptest.NewUnstartedServer(h)
	conns := conncount.Wrap(srv.Listener)
	srv.Listener = conns
	srv.Start()
	t.Cleanup(srv.Close)
	eps := endpoints(t, "tasks: [http]\nhttp: {url: "+srv.URL+"/hang, duration: 1s, connections: 16, qps: unlimited}\n")
	eps[0].Timeout = time.Millisecond
	f := run(t, eps)
	e := f.Endpoints[0]
	if e.RequestCount < 100 || e.ErrorCount != e.RequestCount {
		t.Errorf("%d requests, %d errors; want 100 or more, every one a timeout", e.RequestCount, e.ErrorCount)
	}
	deadline := time.Now().Add(2 * time.Second)
	for conns.Open() > 16 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%d requests cut after 1ms; the server accepted %d connections, %d still open", e.RequestCount, conns.Accepted(), conns.Open())
	if n := conns.Open(); n > 16 {
		t.Errorf("%d connections still open 2s after the load ended, want at most 16 (one per connection's last batch)", n)
	}
}
