// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package watcher

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/autox-tekton/autox/internal/contract"

	"github.com/autox-tekton/autox/internal/logging"
)

// refusingEventListener is an httptest EventListener that refuses the
// first `failures` posts with 503, then accepts with 202, and notes each
// post as "<status> <type> <trigger> <name> <version> id=<event id>".
type refusingEventListener struct {
	mu       sync.Mutex
	failures int
	posts    []string
	accepted chan struct{}
}

func (el *refusingEventListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ev, err := contract.ParseEvent(body)
	status := http.StatusAccepted
	if err != nil || r.Header.Get("Content-Type") != "application/json" {
		status = http.StatusBadRequest
	}
	el.mu.Lock()
	if status == http.StatusAccepted && len(el.posts) < el.failures {
		status = http.StatusServiceUnavailable
	}
	el.posts = append(el.posts, fmt.Sprintf("%d %s %s %s %s id=%s", status, ev.Type, ev.Trigger, ev.Object.Metadata.Name,
		ev.Object.Version(), r.Header.Get(contract.EventIDHeader)))
	el.mu.Unlock()
	w.WriteHeader(status)
	if status == http.StatusServiceUnavailable {
		fmt.Fprintln(w, "down")
	}
	if status == http.StatusAccepted {
		el.accepted <- struct{}{}
	}
}

// ev is an event of Trigger t about Deployment default/name.
func ev(typ, t, name, resourceVersion, version string) contract.Event {
	return contract.Event{Type: typ, Trigger: t, Object: contract.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Metadata: contract.Meta{
		Name: name, Namespace: "default", UID: "u" + name, ResourceVersion: resourceVersion,
		Labels: map[string]string{contract.VersionLabel: version},
	}}}
}

func TestPosterRetriesAndKeepsTheLatestState(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int
		// sent before Run, then during the first wait for a retry
		first, duringOutage []contract.Event
		wantPosts           []string
		wantWaits           []time.Duration
		// checked when given; URL stands for the EventListener's
		wantLogs []string
	}{{
		name:      "no outage: every object, in order",
		first:     []contract.Event{ev("add", "T", "a", "1", "1.0.0"), ev("add", "T", "b", "1", "1.0.0"), ev("update", "T", "c", "1", "1.0.0")},
		wantPosts: []string{"202 add T a 1.0.0 id=ua-1", "202 add T b 1.0.0 id=ub-1", "202 update T c 1.0.0 id=uc-1"},
	}, {
		name:      "events of one Trigger and object not posted yet are one post; another Trigger's are its own",
		first:     []contract.Event{ev("update", "T", "a", "2", "2.0.0"), ev("add", "T", "b", "1", "1.0.0"), ev("update", "U", "a", "2", "2.0.0"), ev("resync", "T", "a", "3", "3.0.0")},
		wantPosts: []string{"202 update T a 3.0.0 id=ua-3", "202 add T b 1.0.0 id=ub-1", "202 update U a 2.0.0 id=ua-2"},
	}, {
		name:     "an outage ends with one post of the latest state per object, each object in its turn",
		failures: 4,
		first:    []contract.Event{ev("update", "T", "a", "1", "1.0.0")},
		duringOutage: []contract.Event{
			ev("update", "T", "a", "2", "2.0.0"), ev("update", "T", "a", "3", "3.0.0"),
			ev("add", "T", "b", "1", "1.0.0"), ev("add", "T", "c", "1", "1.0.0"), ev("update", "T", "b", "2", "2.0.0"),
		},
		wantPosts: []string{
			"503 update T a 1.0.0 id=ua-1",
			"503 update T a 3.0.0 id=ua-3",
			"503 update T a 3.0.0 id=ua-3",
			"503 update T a 3.0.0 id=ua-3",
			"202 update T a 3.0.0 id=ua-3",
			"202 update T b 2.0.0 id=ub-2",
			"202 add T c 1.0.0 id=uc-1",
		},
		wantWaits: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond},
		wantLogs: []string{
			`::warning::EventListener did not take the update of Deployment default/a app.kubernetes.io/version=1.0.0 for Trigger T (POST URL: 503 Service Unavailable: "down"); retry in 200ms`,
			`::warning::EventListener did not take the update of Deployment default/a app.kubernetes.io/version=3.0.0 for Trigger T (POST URL: 503 Service Unavailable: "down"); retry in 400ms`,
			`::warning::EventListener did not take the update of Deployment default/a app.kubernetes.io/version=3.0.0 for Trigger T (POST URL: 503 Service Unavailable: "down"); retry in 800ms`,
			`::warning::EventListener did not take the update of Deployment default/a app.kubernetes.io/version=3.0.0 for Trigger T (POST URL: 503 Service Unavailable: "down"); retry in 1.6s`,
			"EventListener took the update of Deployment default/a app.kubernetes.io/version=3.0.0 for Trigger T after 4 failed tries",
		},
	}, {
		name:     "a long outage: the wait doubles up to 5s, and the deletion is posted at last",
		failures: 9,
		first:    []contract.Event{ev("delete", "T", "a", "1", "1.0.0")},
		wantPosts: []string{
			"503 delete T a 1.0.0 id=ua-1", "503 delete T a 1.0.0 id=ua-1", "503 delete T a 1.0.0 id=ua-1",
			"503 delete T a 1.0.0 id=ua-1", "503 delete T a 1.0.0 id=ua-1", "503 delete T a 1.0.0 id=ua-1",
			"503 delete T a 1.0.0 id=ua-1", "503 delete T a 1.0.0 id=ua-1", "503 delete T a 1.0.0 id=ua-1",
			"202 delete T a 1.0.0 id=ua-1",
		},
		wantWaits: []time.Duration{
			200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond,
			5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			el := &refusingEventListener{failures: tc.failures, accepted: make(chan struct{}, 100)}
			srv := httptest.NewServer(el)
			defer srv.Close()
			var logs strings.Builder
			metrics := NewMetrics(prometheus.NewRegistry())
			p := NewPoster(srv.URL, srv.Client(), metrics, logging.New(&logs, slog.LevelInfo))
			var waits []time.Duration
			p.Sleep = func(ctx context.Context, d time.Duration) error {
				if len(waits) == 0 {
					for _, ev := range tc.duringOutage {
						p.Send(ev)
					}
				}
				waits = append(waits, d)
				return ctx.Err()
			}
			for _, ev := range tc.first {
				p.Send(ev)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				p.Run(ctx)
			}()
			wantAccepted := 0
			for _, post := range tc.wantPosts {
				if post[:3] == "202" {
					wantAccepted++
				}
			}
			deadline := time.After(10 * time.Second)
			for range wantAccepted {
				select {
				case <-el.accepted:
				case <-deadline:
					t.Fatal("the EventListener did not get every event within 10s")
				}
			}
			cancel()
			<-done
			if diff := cmp.Diff(tc.wantPosts, el.posts); diff != "" {
				t.Errorf("posts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWaits, waits); diff != "" {
				t.Errorf("waits between tries (-want +got):\n%s", diff)
			}
			if tc.wantLogs != nil {
				got := strings.Split(strings.TrimSpace(strings.ReplaceAll(logs.String(), srv.URL, "URL")), "\n")
				if diff := cmp.Diff(tc.wantLogs, got); diff != "" {
					t.Errorf("log (-want +got):\n%s", diff)
				}
			}
			if n := p.Pending(); n != 0 {
				t.Errorf("%d objects still pending", n)
			}
			// Posted is counted once the answer is read, which the test
			// cannot wait for; the EventListener's own count is above.
			got := map[string]float64{
				"refused": testutil.ToFloat64(metrics.Refused),
				"retried": testutil.ToFloat64(metrics.Retried), "queue": testutil.ToFloat64(metrics.QueueDepth),
			}
			want := map[string]float64{"refused": float64(tc.failures), "retried": float64(tc.failures), "queue": 0}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}
