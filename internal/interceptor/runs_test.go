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
	want := []decide.Run{
		{Namespace: "default", Name: "r1", UID: "uid-r1", Version: "1.0.0", Created: at(1), Done: true},
		{Namespace: "default", Name: "r2", UID: "uid-r2", Version: "2.0.0", Created: at(2)},
		{Namespace: "default", Name: "r3", UID: "uid-r3", Version: "3.0.0", Created: at(3), CancelRequested: true},
		{Namespace: "default", Name: "r4", UID: "uid-r4", Version: "4.0.0", Created: at(4), Done: true},
		{Namespace: "default", Name: "r5", UID: "uid-r5", Version: "5.0.0", Created: at(5)},
	}
	byName := cmpopts.SortSlices(func(a, b decide.Run) bool { return a.Name < b.Name })
	got, err := rc.RunsOf("httpbin", "iter8")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, byName); diff != "" {
		t.Errorf("RunsOf(httpbin, iter8) (-want +got):\n%s", diff)
	}

	// A run created now reaches the cache without a LIST per event.
	if _, err := f.client.TektonV1().PipelineRuns("default").Create(context.Background(), httpbinRun("r6", "6.0.0", 6, "running"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want = append(want, decide.Run{Namespace: "default", Name: "r6", UID: "uid-r6", Version: "6.0.0", Created: at(6)})
	err = wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		got, err = rc.RunsOf("httpbin", "iter8")
		return len(got) == len(want), err
	})
	if err != nil {
		t.Fatalf("r6 did not reach the cache: %v", err)
	}
	if diff := cmp.Diff(want, got, byName); diff != "" {
		t.Errorf("RunsOf(httpbin, iter8) after a create (-want +got):\n%s", diff)
	}
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
	pr.Status.PipelineSpec = &pipelinev1.PipelineSpec{Description: "a copy of the whole Pipeline"}
	pr.Spec.Params = pipelinev1.Params{{Name: "experiment", Value: *pipelinev1.NewStructuredValues("big")}}
	pr.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	got, err := slim(pr)
	if err != nil {
		t.Fatal(err)
	}
	want := httpbinRun("r1", "1.0.0", 1, "running")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slim (-want +got):\n%s", diff)
	}
}

func TestPipelineRunCanceller_GoneIsFine(t *testing.T) {
	f := newFixture(t)
	c := PipelineRunCanceller{Client: f.client, Timeout: time.Second}
	if err := c.Cancel(context.Background(), "default", "gone"); err != nil {
		t.Errorf("cancelling a run that is gone: %v", err)
	}
}
