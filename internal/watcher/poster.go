// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package watcher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/autox-tekton/autox/internal/contract"
)

// Backoff is how long the Poster waits between tries of one event: First
// after the first failure, doubled after each further one, at most Max.
type Backoff struct {
	First, Max time.Duration
}

// delay is the wait after the given number of failures in a row (1 or more).
func (b Backoff) delay(failures int) time.Duration {
	d := b.First
	for i := 1; i < failures && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Poster posts events to the EventListener, one at a time, in the order
// they came. It keeps, per Trigger and object (uid), only the newest
// event not yet posted, so an EventListener that is down for long costs
// one post of the latest state of each object when it is back, and memory
// bounded by the number of watched objects. A failed post is retried with
// backoff until it is taken or Run returns. Events still pending then are
// dropped (Clear): the watcher asks again for every group whose record
// does not agree.
type Poster struct {
	// URL is the EventListener's.
	URL string
	// Client posts; its Timeout bounds one try.
	Client *http.Client
	// Backoff paces the tries of an event that fails.
	Backoff Backoff
	// Sleep waits d or until ctx ends; nil means a timer. Tests record
	// the waits instead.
	Sleep   func(ctx context.Context, d time.Duration) error
	Log     *slog.Logger
	Metrics *Metrics

	mu      sync.Mutex
	pending map[pendingKey]contract.Event
	queue   []pendingKey // the order in which objects first had an event pending
	wake    chan struct{}
}

// NewPoster returns a Poster for url with the default backoff: 200ms,
// doubled up to 5s, so that an EventListener back from an outage gets the
// latest states within about 5s.
func NewPoster(url string, client *http.Client, metrics *Metrics, log *slog.Logger) *Poster {
	return &Poster{
		URL:     url,
		Client:  client,
		Backoff: Backoff{First: 200 * time.Millisecond, Max: 5 * time.Second},
		Log:     log,
		Metrics: metrics,
		pending: map[pendingKey]contract.Event{},
		wake:    make(chan struct{}, 1),
	}
}

// Send queues ev, merged with an event of the same Trigger and object
// still pending. It never blocks.
func (p *Poster) Send(ev contract.Event) {
	key := keyOf(ev)
	p.mu.Lock()
	if earlier, ok := p.pending[key]; ok {
		ev = merge(earlier, ev)
	} else {
		p.queue = append(p.queue, key)
	}
	p.pending[key] = ev
	p.Metrics.QueueDepth.Set(float64(len(p.pending)))
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Pending is the number of objects with an event not yet posted.
func (p *Poster) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// Clear drops every pending event: a replica that lost the lease posts
// nothing more.
func (p *Poster) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.pending)
	p.queue = nil
	p.Metrics.QueueDepth.Set(0)
}

// next takes the oldest pending event, if any. It still counts as
// pending (queue depth) until it is taken or dropped.
func (p *Poster) next() (contract.Event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		return contract.Event{}, false
	}
	key := p.queue[0]
	p.queue = p.queue[1:]
	ev := p.pending[key]
	delete(p.pending, key)
	return ev, true
}

// newer merges into ev an event of the same object that came while ev
// was failing, and takes it off the queue: the retry posts the latest
// state, and the object keeps its turn.
func (p *Poster) newer(ev contract.Event) contract.Event {
	key := keyOf(ev)
	p.mu.Lock()
	defer p.mu.Unlock()
	later, ok := p.pending[key]
	if !ok {
		return ev
	}
	delete(p.pending, key)
	p.queue = slices.DeleteFunc(p.queue, func(k pendingKey) bool { return k == key })
	p.Metrics.QueueDepth.Set(float64(len(p.pending)))
	return merge(ev, later)
}

// Run posts events until ctx ends, then drops the ones not posted.
func (p *Poster) Run(ctx context.Context) {
	defer p.Clear()
	for {
		ev, ok := p.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
				continue
			}
		}
		if !p.deliver(ctx, ev) {
			return
		}
	}
}

// deliver posts ev until it is accepted, or ctx ends (false).
func (p *Poster) deliver(ctx context.Context, ev contract.Event) bool {
	for failures := 0; ; {
		body, err := json.Marshal(ev)
		if err != nil {
			// Not a fault of the EventListener: no retry could help.
			p.Log.Error(fmt.Sprintf("cannot encode the %s of %s, not posted: %v", ev.Type, describe(ev), err))
			return true
		}
		err = p.post(ctx, body, ev.ID())
		if err == nil {
			p.Metrics.Posted.Inc()
			if failures > 0 {
				p.Log.Info(fmt.Sprintf("EventListener took the %s of %s after %d failed tries", ev.Type, describe(ev), failures))
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		p.Metrics.Refused.Inc()
		failures++
		d := p.Backoff.delay(failures)
		p.Log.Warn(fmt.Sprintf("EventListener did not take the %s of %s (%v); retry in %s", ev.Type, describe(ev), err, d))
		if err := p.sleep(ctx, d); err != nil {
			return false
		}
		p.Metrics.Retried.Inc()
		ev = p.newer(ev)
	}
}

func (p *Poster) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// post sends an event once; any answer but 2xx is a failure (the EventListener
// answers 202 before it runs the interceptors).
func (p *Poster) post(ctx context.Context, body []byte, id string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(contract.EventIDHeader, id)
	resp, err := p.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %q", p.URL, resp.Status, bytes.TrimSpace(text))
	}
	return nil
}

// describe names an event's object for logs: Trigger, kind
// namespace/name and version label.
func describe(ev contract.Event) string {
	m := ev.Object.Metadata
	s := fmt.Sprintf("%s %s/%s for Trigger %s", ev.Object.Kind, m.Namespace, m.Name, ev.Trigger)
	if v, ok := m.Labels[contract.VersionLabel]; ok {
		s = fmt.Sprintf("%s %s/%s %s=%s for Trigger %s", ev.Object.Kind, m.Namespace, m.Name, contract.VersionLabel, v, ev.Trigger)
	}
	return s
}
