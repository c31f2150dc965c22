// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package watcher

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// follower is an Elector that never leads.
type follower struct{ running chan struct{} }

func (f follower) Run(ctx context.Context, _ func(context.Context)) {
	close(f.running)
	<-ctx.Done()
}

// TestOnlyTheLeaderPosts: a group whose record does not show its object's
// version is posted by the leader; a replica that does not lead looks at
// it and asks nothing.
func TestOnlyTheLeaderPosts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		follows   bool
		wantPosts []string
		wantAsks  float64
	}{{
		name:      "leader posts",
		wantPosts: []string{`uid-a-1 {"type":"add","trigger":"autox-a-iter8","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","namespace":"default","uid":"uid-a","resourceVersion":"1","labels":{"app.kubernetes.io/version":"2.0.0"}}}}`},
		wantAsks:  1,
	}, {
		name:    "follower posts nothing",
		follows: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, fakeAccess{}, []*unstructured.Unstructured{trigger("a", "a"), trigger("b", "b")},
				[]*metav1.PartialObjectMetadata{deployment("a", "1", "2.0.0"), deployment("b", "1", "1.0.0")},
				[]*corev1.ConfigMap{record(t, "a", "a", "1.0.0"), record(t, "b", "b", "1.0.0")})
			if !tc.follows {
				h.start(1)
			} else {
				f := follower{running: make(chan struct{})}
				h.w.Elector = f
				ctx, cancel := context.WithCancel(context.Background())
				h.cancel = cancel
				go func() { h.done <- h.w.Run(ctx) }()
				t.Cleanup(func() {
					cancel()
					if err := <-h.done; err != nil {
						t.Errorf("Run: %v", err)
					}
				})
				h.wait(h.synced, "an informer of objects synced")
				wait(t, f.running, "follower running")
			}
			// Groups are looked at in order of name: once b is, a was.
			const bLooked = `the record of b/iter8 shows version "1.0.0" of apps/v1 deployments default/b; nothing to ask`
			if !slices.ContainsFunc(h.read, func(l string) bool { return strings.Contains(l, bLooked) }) {
				h.logLine(bLooked)
			}
			var got []string
			for range tc.wantPosts {
				got = append(got, h.post())
			}
			h.noMorePosts()
			if diff := cmp.Diff(tc.wantPosts, got); diff != "" {
				t.Errorf("posts (-want +got):\n%s", diff)
			}
			if got := testutil.ToFloat64(h.w.Metrics.Asks); got != tc.wantAsks {
				t.Errorf("autox_watcher_asks_total %v, want %v", got, tc.wantAsks)
			}
			if got := testutil.ToFloat64(h.w.Metrics.Leader); got != 0 {
				t.Errorf("autox_watcher_leader %v after Run, want 0", got)
			}
			if n := h.w.Poster.Pending(); n != 0 && tc.follows {
				t.Errorf("%d events pending on a follower, want 0", n)
			}
		})
	}
}

var _ Elector = follower{}
