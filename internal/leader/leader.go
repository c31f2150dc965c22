// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package leader elects one replica among several with a Lease, for the
// work only one writer should do (the watcher's posts, the interceptor's
// record reconciler). A leader that cannot renew stops its work at once;
// one that stops cleanly releases the Lease only after its work has
// returned, so two replicas never work at once.
package leader

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Lease competes for the Lease Name in Namespace.
type Lease struct {
	Kube      kubernetes.Interface
	Namespace string
	// Name is the Lease's, e.g. autox-watcher.
	Name string
	// Identity names this replica in the Lease: its pod name.
	Identity string
	// Doing says what the leader does, for logs ("posting events").
	Doing string
	// LeaseDuration, RenewDeadline and RetryPeriod are client-go's;
	// zero means 15s, 10s and 2s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	Log                                       *slog.Logger
}

// Run competes for the Lease until ctx ends, and again after each loss,
// calling lead with a context that ends when the lease is lost or ctx
// ends, each time this replica holds it.
func (e *Lease) Run(ctx context.Context, lead func(ctx context.Context)) {
	for ctx.Err() == nil {
		e.term(ctx, lead)
	}
}

// term is one try at the Lease: it returns when the lease is lost or ctx
// ends, and in both cases only after lead has returned.
func (e *Lease) term(ctx context.Context, lead func(ctx context.Context)) {
	var (
		mu      sync.Mutex
		over    bool
		leading sync.WaitGroup
	)
	// client-go releases the Lease (ReleaseOnCancel) as soon as the
	// context of its Run ends, while lead may still be working: its Run
	// gets a context of its own, ended once lead has returned.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	termDone := make(chan struct{})
	defer close(termDone)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: e.Name, Namespace: e.Namespace},
			Client:     e.Kube.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: e.Identity},
		},
		LeaseDuration:   orDefault(e.LeaseDuration, 15*time.Second),
		RenewDeadline:   orDefault(e.RenewDeadline, 10*time.Second),
		RetryPeriod:     orDefault(e.RetryPeriod, 2*time.Second),
		ReleaseOnCancel: true,
		Name:            e.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			// client-go calls this in a goroutine of its own: term waits
			// for it before it returns.
			OnStartedLeading: func(lctx context.Context) {
				mu.Lock()
				if over {
					mu.Unlock()
					return
				}
				leading.Add(1)
				mu.Unlock()
				defer leading.Done()
				work, cancel := context.WithCancel(lctx)
				defer cancel()
				stop := context.AfterFunc(ctx, cancel)
				defer stop()
				e.Log.Info(fmt.Sprintf("leading as %s (Lease %s/%s): %s", e.Identity, e.Namespace, e.Name, e.Doing))
				lead(work)
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(identity string) {
				if identity != e.Identity {
					e.Log.Info(fmt.Sprintf("%s leads (Lease %s/%s); this replica %s keeps its caches warm and waits", identity, e.Namespace, e.Name, e.Identity))
				}
			},
		},
	})
	if err != nil {
		// Only a bad configuration fails, and it is all constants.
		e.Log.Error(fmt.Sprintf("leader election: %v; not %s", err, e.Doing))
		<-ctx.Done()
		return
	}
	go func() {
		select {
		case <-termDone:
			return
		case <-ctx.Done():
		}
		mu.Lock()
		over = true
		mu.Unlock()
		leading.Wait()
		stopRun()
	}()
	le.Run(runCtx)
	mu.Lock()
	over = true
	mu.Unlock()
	leading.Wait()
	if ctx.Err() == nil {
		e.Log.Warn(fmt.Sprintf("lost the Lease %s/%s: stopped %s; trying to lead again", e.Namespace, e.Name, e.Doing))
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
