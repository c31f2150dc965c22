package interceptor

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/autox-tekton/autox/internal/decide"
)

// TestSweeper: a run that arrives in the cache while an earlier run of
// its group/spec still runs cancels that one, whatever decided it. Runs
// created in one second are ordered by autox.dev/decided-at, not by name
// nor by creationTimestamp; runs of another group/spec, done ones and
// ones already being cancelled are left alone.
func TestSweeper(t *testing.T) {
	decided := func(pr *pipelinev1.PipelineRun, at string) *pipelinev1.PipelineRun {
		pr.CreationTimestamp = metav1.NewTime(t0)
		pr.Annotations = map[string]string{decide.DecidedAtAnnotation: at}
		return pr
	}
	// z-first was decided first although its name sorts last.
	f := newFixture(t,
		decided(httpbinRun("z-first", "1.0.0", 0, "running"), "2026-11-27T10:00:00.100Z"),
		decided(httpbinRun("done", "0.9.0", 0, "done"), "2026-11-27T10:00:00.050Z"),
		decided(httpbinRun("stopping", "0.8.0", 0, "cancelling"), "2026-11-27T10:00:00.010Z"),
		pipelineRun("routeguide", "iter8", "other", "1.0.0", 0, "running"),
	)
	rc := f.interceptor.Runs.(*RunCache)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewSweeper(f.interceptor.Canceller, testLogger(t))
	rc.OnSuperseded(s.Superseded)
	go s.Run(ctx)
	// Alone, z-first is the latest: nothing to cancel.
	time.Sleep(200 * time.Millisecond)
	if got := f.patched(); len(got) != 0 {
		t.Fatalf("patched with one running run: %v", got)
	}
	later := decided(httpbinRun("a-second", "2.0.0", 0, "running"), "2026-11-27T10:00:00.900Z")
	if _, err := f.client.TektonV1().PipelineRuns("default").Create(ctx, later, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"z-first" + cancelled}
	var got []string
	_ = wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		got = f.patched()
		return len(got) >= len(want), nil
	})
	time.Sleep(200 * time.Millisecond)
	if diff := cmp.Diff(want, f.patched()); diff != "" {
		t.Errorf("patches (-want +got):\n%s", diff)
	}
	runs, _ := rc.RunsOf("httpbin", "iter8")
	if latest, _ := decide.Latest(runs); latest.Name != "a-second" {
		t.Errorf("latest run %s, want a-second (decided last)", latest.Name)
	}
}
