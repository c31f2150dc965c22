package watcher

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

var _ Elector = (*LeaseElector)(nil)

// LeaseName is the Lease the watcher's replicas compete for.
const LeaseName = "autox-watcher"

// LeaseElector elects a leader among the watcher's replicas with a Lease
// in Namespace. A replica that cannot renew within RenewDeadline stops
// posting at once; another takes over once LeaseDuration has passed
// since the last renewal (at once when the leader stopped cleanly: it
// releases the Lease).
type LeaseElector struct {
	Kube      kubernetes.Interface
	Namespace string
	// Identity names this replica in the Lease: its pod name.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are client-go's;
	// zero means 15s, 10s and 2s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	Log                                       *slog.Logger
}

// Run implements Elector: it competes for the Lease until ctx ends, and
// again after each loss.
func (e *LeaseElector) Run(ctx context.Context, lead func(ctx context.Context)) {
	for ctx.Err() == nil {
		e.term(ctx, lead)
	}
}

// term is one try at the Lease: it returns when the lease is lost (lead
// has returned by then) or ctx ends.
func (e *LeaseElector) term(ctx context.Context, lead func(ctx context.Context)) {
	var (
		mu      sync.Mutex
		over    bool
		leading sync.WaitGroup
	)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: LeaseName, Namespace: e.Namespace},
			Client:     e.Kube.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: e.Identity},
		},
		LeaseDuration:   orDefault(e.LeaseDuration, 15*time.Second),
		RenewDeadline:   orDefault(e.RenewDeadline, 10*time.Second),
		RetryPeriod:     orDefault(e.RetryPeriod, 2*time.Second),
		ReleaseOnCancel: true,
		Name:            LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			// client-go calls this in a goroutine of its own: term waits
			// for it before the next try.
			OnStartedLeading: func(ctx context.Context) {
				mu.Lock()
				if over {
					mu.Unlock()
					return
				}
				leading.Add(1)
				mu.Unlock()
				defer leading.Done()
				e.Log.Info(fmt.Sprintf("leading as %s (Lease %s/%s): posting events", e.Identity, e.Namespace, LeaseName))
				lead(ctx)
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(identity string) {
				if identity != e.Identity {
					e.Log.Info(fmt.Sprintf("%s leads (Lease %s/%s); this replica %s keeps its caches warm and posts nothing", identity, e.Namespace, LeaseName, e.Identity))
				}
			},
		},
	})
	if err != nil {
		// Only a bad configuration fails, and it is all constants.
		e.Log.Error(fmt.Sprintf("leader election: %v; not posting", err))
		<-ctx.Done()
		return
	}
	le.Run(ctx)
	mu.Lock()
	over = true
	mu.Unlock()
	leading.Wait()
	if ctx.Err() == nil {
		e.Log.Warn(fmt.Sprintf("lost the Lease %s/%s: posting stopped; trying to lead again", e.Namespace, LeaseName))
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
