package watcher

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/autox-tekton/autox/internal/logging"
)

// eventListener is an httptest EventListener that refuses the first
// `failures` posts with 503, then accepts with 202, and notes each post
// as "<status> <type> <name> <version> old=<old version> id=<event id>".
type eventListener struct {
	mu       sync.Mutex
	failures int
	posts    []string
	accepted chan struct{}
}

func (el *eventListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Type      string                     `json:"type"`
		Object    *unstructured.Unstructured `json:"object"`
		OldObject *unstructured.Unstructured `json:"oldObject"`
	}
	status := http.StatusAccepted
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Header.Get("Content-Type") != "application/json" {
		status = http.StatusBadRequest
	}
	el.mu.Lock()
	if status == http.StatusAccepted && len(el.posts) < el.failures {
		status = http.StatusServiceUnavailable
	}
	old := "-"
	if body.OldObject != nil {
		old = body.OldObject.GetLabels()[VersionLabel]
	}
	el.posts = append(el.posts, fmt.Sprintf("%d %s %s %s old=%s id=%s", status, body.Type, body.Object.GetName(),
		body.Object.GetLabels()[VersionLabel], old, r.Header.Get("X-Autox-Event-Id")))
	el.mu.Unlock()
	w.WriteHeader(status)
	if status == http.StatusServiceUnavailable {
		fmt.Fprintln(w, "down")
	}
	if status == http.StatusAccepted {
		el.accepted <- struct{}{}
	}
}

func TestPosterRetriesAndKeepsTheLatestState(t *testing.T) {
	a1 := deployment("a", "ua", "1", "1.0.0", 1)
	a2 := deployment("a", "ua", "2", "2.0.0", 1)
	a3 := deployment("a", "ua", "3", "3.0.0", 1)
	b1 := deployment("b", "ub", "1", "1.0.0", 1)
	b2 := deployment("b", "ub", "2", "2.0.0", 1)
	c1 := deployment("c", "uc", "1", "1.0.0", 1)
	for _, tc := range []struct {
		name     string
		failures int
		// sent before Run, then during the first wait for a retry
		first, duringOutage []Event
		wantPosts           []string
		wantWaits           []time.Duration
		// checked when given; URL stands for the EventListener's
		wantLogs []string
	}{{
		name:      "no outage: every object, in order",
		first:     []Event{{Type: Add, Object: a1}, {Type: Add, Object: b1}, {Type: Update, Object: c1}},
		wantPosts: []string{"202 add a 1.0.0 old=- id=ua-1", "202 add b 1.0.0 old=- id=ub-1", "202 update c 1.0.0 old=- id=uc-1"},
	}, {
		name:      "events of one object not posted yet are one post",
		first:     []Event{{Type: Update, Object: a2, OldObject: a1}, {Type: Add, Object: b1}, {Type: Update, Object: a3, OldObject: a2}},
		wantPosts: []string{"202 update a 3.0.0 old=1.0.0 id=ua-3", "202 add b 1.0.0 old=- id=ub-1"},
	}, {
		name:     "an outage ends with one post of the latest state per object, each object in its turn",
		failures: 4,
		first:    []Event{{Type: Update, Object: a1}},
		duringOutage: []Event{
			{Type: Update, Object: a2, OldObject: a1}, {Type: Update, Object: a3, OldObject: a2},
			{Type: Add, Object: b1}, {Type: Add, Object: c1}, {Type: Update, Object: b2, OldObject: b1},
		},
		wantPosts: []string{
			"503 update a 1.0.0 old=- id=ua-1",
			"503 update a 3.0.0 old=1.0.0 id=ua-3",
			"503 update a 3.0.0 old=1.0.0 id=ua-3",
			"503 update a 3.0.0 old=1.0.0 id=ua-3",
			"202 update a 3.0.0 old=1.0.0 id=ua-3",
			"202 add b 2.0.0 old=- id=ub-2",
			"202 add c 1.0.0 old=- id=uc-1",
		},
		wantWaits: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond},
		wantLogs: []string{
			`::warning::EventListener did not take the update of Deployment default/a app.kubernetes.io/version=1.0.0 (POST URL: 503 Service Unavailable: "down"); retry in 200ms`,
			`::warning::EventListener did not take the update of Deployment default/a app.kubernetes.io/version=3.0.0 (POST URL: 503 Service Unavailable: "down"); retry in 400ms`,
			`::warning::EventListener did not take the update of Deployment default/a app.kubernetes.io/version=3.0.0 (POST URL: 503 Service Unavailable: "down"); retry in 800ms`,
			`::warning::EventListener did not take the update of Deployment default/a app.kubernetes.io/version=3.0.0 (POST URL: 503 Service Unavailable: "down"); retry in 1.6s`,
			"EventListener took the update of Deployment default/a app.kubernetes.io/version=3.0.0 after 4 failed tries",
		},
	}, {
		name:     "a long outage: the wait doubles up to 5s, and the deletion is posted at last",
		failures: 9,
		first:    []Event{{Type: Delete, Object: a1}},
		wantPosts: []string{
			"503 delete a 1.0.0 old=- id=ua-1", "503 delete a 1.0.0 old=- id=ua-1", "503 delete a 1.0.0 old=- id=ua-1",
			"503 delete a 1.0.0 old=- id=ua-1", "503 delete a 1.0.0 old=- id=ua-1", "503 delete a 1.0.0 old=- id=ua-1",
			"503 delete a 1.0.0 old=- id=ua-1", "503 delete a 1.0.0 old=- id=ua-1", "503 delete a 1.0.0 old=- id=ua-1",
			"202 delete a 1.0.0 old=- id=ua-1",
		},
		wantWaits: []time.Duration{
			200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond,
			5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			el := &eventListener{failures: tc.failures, accepted: make(chan struct{}, 100)}
			srv := httptest.NewServer(el)
			defer srv.Close()
			var logs strings.Builder
			p := NewPoster(srv.URL, srv.Client(), logging.New(&logs, slog.LevelInfo))
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
		})
	}
}
