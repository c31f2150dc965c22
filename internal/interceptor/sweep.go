package interceptor

import (
	"context"
	"log/slog"
	"time"

	"k8s.io/client-go/util/workqueue"

	"github.com/autox-tekton/autox/internal/decide"
)

// Sweeper cancels the runs the RunCache reports superseded, off the
// informer's goroutine: each run once at a time, a failed cancel retried
// with backoff (50 ms doubling to 10 s).
type Sweeper struct {
	Canceller Canceller
	Log       *slog.Logger
	queue     workqueue.TypedRateLimitingInterface[sweep]
}

// sweep is one run to cancel and the later run that supersedes it.
type sweep struct {
	Namespace, Name, Version string
	By, ByVersion            string
}

// NewSweeper makes a Sweeper; pass its Superseded to RunCache.OnSuperseded
// and Run it.
func NewSweeper(c Canceller, log *slog.Logger) *Sweeper {
	return &Sweeper{Canceller: c, Log: log, queue: workqueue.NewTypedRateLimitingQueue(
		workqueue.NewTypedItemExponentialFailureRateLimiter[sweep](50*time.Millisecond, 10*time.Second))}
}

// Superseded queues the runs that latest supersedes.
func (s *Sweeper) Superseded(latest decide.Run, runs []decide.Run) {
	for _, r := range runs {
		s.queue.Add(sweep{Namespace: r.Namespace, Name: r.Name, Version: r.Version, By: latest.Name, ByVersion: latest.Version})
	}
}

// Run cancels what is queued until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	go func() {
		<-ctx.Done()
		s.queue.ShutDown()
	}()
	for {
		w, quit := s.queue.Get()
		if quit {
			return
		}
		if err := s.Canceller.Cancel(ctx, w.Namespace, w.Name); err != nil {
			s.Log.Warn("could not cancel a superseded run; trying again: "+err.Error(), "run", w.Name)
			s.queue.AddRateLimited(w)
		} else {
			s.Log.Info("cancelled "+w.Name+" (version "+w.Version+"): the later run "+w.By+" (version "+w.ByVersion+") supersedes it", "run", w.Name)
			s.queue.Forget(w)
		}
		s.queue.Done(w)
	}
}
