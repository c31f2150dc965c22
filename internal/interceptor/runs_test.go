package interceptor

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"

	"github.com/autox-tekton/autox/internal/decide"
)

// TestRunCache: what the index returns for a group/spec, with each run's
// state read from its status and spec.status; runs without both autox
// labels stay out, and a run created later shows up.
func TestRunCache(t *testing.T) {
	unlabelled := httpbinRun("u1", "1.0.0", 9, "running")
	delete(unlabelled.Labels, decide.SpecLabel)
	failed := httpbinRun("r4", "4.0.0", 4, "running")
	failed.Status.Conditions[0].Status = "False"
	pending := httpbinRun("r5", "5.0.0", 5, "running")
	pending.Spec.Status = pipelinev1.PipelineRunSpecStatusPending
	f := newFixture(t,
		httpbinRun("r1", "1.0.0", 1, "done"),
		httpbinRun("r2", "2.0.0", 2, "running"),
		httpbinRun("r3", "3.0.0", 3, "cancelling"),
		failed, pending, unlabelled,
		pipelineRun("routeguide", "iter8", "g1", "1.0.0", 1, "running"),
	)
	rc := f.interceptor.Runs
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	r2 := decide.Run{Namespace: "default", Name: "r2", UID: "uid-r2", Version: "2.0.0", Created: at(2)}
	r5 := decide.Run{Namespace: "default", Name: "r5", UID: "uid-r5", Version: "5.0.0", Created: at(5)}
	r6 := decide.Run{Namespace: "default", Name: "r6", UID: "uid-r6", Version: "6.0.0", Created: at(6)}
	byName := cmpopts.SortSlices(func(a, b decide.Run) bool { return a.Name < b.Name })
	// r1 and r4 are done, r3 is being cancelled: only the latest (r5,
	// pending) and the running r2 count.
	runsOf := func(want []decide.Run) {
		t.Helper()
		var got []decide.Run
		err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			var err error
			got, err = rc.RunsOf("httpbin", "iter8")
			return cmp.Equal(want, got, byName), err
		})
		if diff := cmp.Diff(want, got, byName); err != nil || diff != "" {
			t.Errorf("RunsOf(httpbin, iter8) (-want +got):\n%s", diff)
		}
	}
	runsOf([]decide.Run{r2, r5})

	// A run created now reaches the cache without a LIST per event, and
	// one deleted leaves it.
	ctx := context.Background()
	prs := f.client.TektonV1().PipelineRuns("default")
	if _, err := prs.Create(ctx, httpbinRun("r6", "6.0.0", 6, "running"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	runsOf([]decide.Run{r2, r5, r6})
	if err := prs.Delete(ctx, "r6", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	runsOf([]decide.Run{r2, r5})
	// Finished: r2 leaves, r5 stays as the latest.
	done2 := httpbinRun("r2", "2.0.0", 2, "done")
	if _, err := prs.Update(ctx, done2, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	runsOf([]decide.Run{r5})
	lists := 0
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "list" {
			lists++
		}
	}
	if lists != 1 {
		t.Errorf("%d LISTs of PipelineRuns, want 1 (the informer's first)", lists)
	}
}

func TestSlim(t *testing.T) {
	pr := httpbinRun("r1", "1.0.0", 1, "running")
	pr.ResourceVersion = "42"
	pr.Status.PipelineSpec = &pipelinev1.PipelineSpec{Description: "a copy of the whole Pipeline"}
	pr.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	got, err := slim(pr)
	if err != nil {
		t.Fatal(err)
	}
	want := &cachedRun{
		ObjectMeta: metav1.ObjectMeta{Name: "r1", Namespace: "default", UID: "uid-r1", ResourceVersion: "42"},
		groupSpec:  "httpbin/iter8",
		run:        decide.Run{Namespace: "default", Name: "r1", UID: "uid-r1", Version: "1.0.0", Created: t0.Add(time.Minute)},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(cachedRun{})); diff != "" {
		t.Errorf("slim (-want +got):\n%s", diff)
	}
	// The informer keys what it keeps by namespace/name.
	if key, err := cache.MetaNamespaceKeyFunc(got); err != nil || key != "default/r1" {
		t.Errorf("key of the cached run: %q, %v; want default/r1", key, err)
	}
}

func TestPipelineRunCanceller_GoneIsFine(t *testing.T) {
	f := newFixture(t)
	c := PipelineRunCanceller{Client: f.client, Timeout: time.Second}
	if err := c.Cancel(context.Background(), "default", "gone"); err != nil {
		t.Errorf("cancelling a run that is gone: %v", err)
	}
}
