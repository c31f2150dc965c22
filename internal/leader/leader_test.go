// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package leader

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiwait "k8s.io/apimachinery/pkg/util/wait"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/autox-tekton/autox/internal/logging"
)

// wait takes the next value of ch, or fails after 10 s.
func wait[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
		panic("unreachable")
	}
}

// testWriter logs to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// leaseName is the Lease the tests' replicas compete for.
const leaseName = "autox-watcher"

// Short lease timings: client-go wants LeaseDuration > RenewDeadline >
// 1.2 * RetryPeriod.
const (
	testLeaseDuration = time.Second
	testRenewDeadline = 500 * time.Millisecond
	testRetryPeriod   = 100 * time.Millisecond
)

// leadership records who leads, and how many lead at once at most.
type leadership struct {
	mu      sync.Mutex
	leaders map[string]bool
	most    int
	events  chan string
}

func newLeadership() *leadership {
	return &leadership{leaders: map[string]bool{}, events: make(chan string, 100)}
}

// lead is identity's lead function: it leads until ctx ends, then waits
// for finish (nil: returns at once).
func (l *leadership) lead(identity string, finish <-chan struct{}) func(ctx context.Context) {
	return func(ctx context.Context) {
		l.mu.Lock()
		l.leaders[identity] = true
		l.most = max(l.most, len(l.leaders))
		l.mu.Unlock()
		l.events <- "start " + identity
		<-ctx.Done()
		l.events <- "stopping " + identity
		if finish != nil {
			<-finish
		}
		l.mu.Lock()
		delete(l.leaders, identity)
		l.mu.Unlock()
	}
}

func (l *leadership) mostAtOnce() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.most
}

// replica is one LeaseElector running until its cancel.
type replica struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func runElector(t *testing.T, kube *kubefake.Clientset, identity string, lead func(context.Context)) *replica {
	t.Helper()
	e := &Lease{
		Kube: kube, Namespace: "autox", Name: leaseName, Identity: identity, Doing: "posting events",
		LeaseDuration: testLeaseDuration, RenewDeadline: testRenewDeadline, RetryPeriod: testRetryPeriod,
		Log: logging.New(testWriter{t}, slog.LevelDebug),
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		e.Run(ctx, lead)
	}()
	t.Cleanup(r.stop)
	return r
}

// stop ends the replica's context and waits for Run to return.
func (r *replica) stop() {
	r.cancel()
	<-r.done
}

// holder is the Lease's holder, "" when none.
func holder(t *testing.T, kube *kubefake.Clientset) string {
	t.Helper()
	lease, err := kube.CoordinationV1().Leases("autox").Get(context.Background(), leaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// TestLeaseOneLeaderAtATime: of two replicas, one leads while it
// renews; when its context ends it releases the Lease and the other takes
// over well within LeaseDuration.
func TestLeaseOneLeaderAtATime(t *testing.T) {
	kube := kubefake.NewClientset()
	l := newLeadership()
	replicas := map[string]*replica{}
	for _, id := range []string{"watcher-0", "watcher-1"} {
		replicas[id] = runElector(t, kube, id, l.lead(id, nil))
	}
	first := wait(t, l.events, "leader")[len("start "):]
	second := map[string]string{"watcher-0": "watcher-1", "watcher-1": "watcher-0"}[first]
	// Three renewals, each a chance for the other to take the Lease.
	var renewals []time.Time
	err := apiwait.PollUntilContextTimeout(context.Background(), testRetryPeriod/4, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		lease, err := kube.CoordinationV1().Leases("autox").Get(ctx, leaseName, metav1.GetOptions{})
		if err != nil || lease.Spec.RenewTime == nil {
			return false, err
		}
		if n := len(renewals); n == 0 || !renewals[n-1].Equal(lease.Spec.RenewTime.Time) {
			renewals = append(renewals, lease.Spec.RenewTime.Time)
		}
		return len(renewals) > 3, nil
	})
	if err != nil {
		t.Fatalf("the leader did not renew 3 times: %v", err)
	}
	if got := holder(t, kube); got != first {
		t.Errorf("Lease held by %q while %s leads", got, first)
	}

	stopped := time.Now()
	replicas[first].stop()
	var got []string
	for range 2 {
		got = append(got, wait(t, l.events, "leadership change"))
	}
	tookOver := time.Since(stopped)
	want := []string{"stopping " + first, "start " + second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("leadership (-want +got):\n%s", diff)
	}
	// Released: taken at the next retry, not after the lease expires.
	if tookOver >= testLeaseDuration {
		t.Errorf("%s took over %s after %s stopped, want less than the lease duration %s", second, tookOver, first, testLeaseDuration)
	}
	if got := holder(t, kube); got != second {
		t.Errorf("Lease held by %q after the take-over, want %s", got, second)
	}
	replicas[second].stop()
	if got := wait(t, l.events, "stop"); got != "stopping "+second {
		t.Errorf("event %q, want stopping %s", got, second)
	}
	if n := l.mostAtOnce(); n != 1 {
		t.Errorf("%d replicas led at once, want 1", n)
	}
}

// TestLeaseReleasesAfterLeadReturns: a leader whose context ends
// may still be finishing a post; the other replica must not lead until
// lead has returned.
func TestLeaseReleasesAfterLeadReturns(t *testing.T) {
	kube := kubefake.NewClientset()
	l := newLeadership()
	finish := make(chan struct{})
	first := runElector(t, kube, "watcher-0", l.lead("watcher-0", finish))
	if got := wait(t, l.events, "leader"); got != "start watcher-0" {
		t.Fatalf("event %q, want start watcher-0", got)
	}
	runElector(t, kube, "watcher-1", l.lead("watcher-1", nil))
	first.cancel()
	if got := wait(t, l.events, "stopping"); got != "stopping watcher-0" {
		t.Fatalf("event %q, want stopping watcher-0", got)
	}
	// watcher-0's lead has not returned: for a few lease durations, nobody
	// else may lead.
	select {
	case ev := <-l.events:
		t.Errorf("%s while watcher-0's lead has not returned", ev)
	case <-time.After(3 * testLeaseDuration):
	}
	close(finish)
	<-first.done
	if n := l.mostAtOnce(); n != 1 {
		t.Errorf("%d replicas led at once, want 1", n)
	}
}
