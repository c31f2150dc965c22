// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/history"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/store"
)

const systemNS = "autox-system"

// keepFixture is a reconciler keeping results: the record in memory, the
// result ConfigMaps (in autox) and the history (in autox-system) in one
// fake clientset.
type keepFixture struct {
	reconciler *Reconciler
	records    *memRecords
	client     *fake.Clientset
	metrics    *Metrics
}

func newKeepFixture(t *testing.T, entries ...contract.Entry) keepFixture {
	t.Helper()
	f := keepFixture{
		records: &memRecords{rec: &StoredRecord{Record: contract.Record{Group: "httpbin", Spec: "iter8", Trigger: "autox-httpbin-iter8", TriggerUID: "tr-1",
			Seq: int64(len(entries)), Runs: entries}, UID: "rec-1", ResourceVersion: "1"}, rv: 1},
		client:  fake.NewSimpleClientset(),
		metrics: NewMetrics(prometheus.NewRegistry()),
	}
	f.reconciler = NewReconciler(&Reconciler{RunsNamespace: ns, Records: f.records, Runs: fakeRuns{}, Canceller: &fakeCanceller{},
		Results: f.client.CoreV1(), History: &history.Store{ConfigMaps: f.client.CoreV1(), Namespace: systemNS},
		Metrics: f.metrics, Log: testLogger(t), Now: func() time.Time { return t0 }})
	return f
}

// save stores r as the assess step does, as the result of run, owned by
// the PipelineRun with uid; its version label is one the record does not
// know (the record's is what counts).
func (f keepFixture) save(t *testing.T, run, uid string, r *result.Result) {
	t.Helper()
	if _, err := (store.Store{ConfigMaps: f.client.CoreV1()}).Save(context.Background(), store.Target{
		Namespace: ns, Owner: store.Owner{Kind: store.KindPipelineRun, Name: run, UID: uid},
		Group: "httpbin", Spec: "iter8", Version: "label-says-9.9.9", Name: "httpbin",
	}, r); err != nil {
		t.Fatal(err)
	}
}

// history is the history's entries; none when there is no history.
func (f keepFixture) history(t *testing.T) []history.Entry {
	t.Helper()
	h, err := (history.Store{ConfigMaps: f.client.CoreV1(), Namespace: systemNS}).Load(context.Background(), "httpbin", "iter8")
	if errors.Is(err, history.ErrNone) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h.Entries {
		if _, err := h.Result(e); err != nil {
			t.Errorf("the history's result of %s: %v", e.Run, err)
		}
	}
	return h.Entries
}

func ended(state contract.RunState, kept string) contract.Entry {
	return contract.Entry{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Hour), RunUID: "r1", State: state, Kept: kept}
}

var endTime = t0.Add(-59 * time.Minute)

func res(completed, slos, regressed bool) *result.Result {
	return &result.Result{Version: result.Version, Completed: completed, SLOsSatisfied: slos, Regressed: regressed, EndTime: endTime}
}

// historyEntry is run(1)'s entry in the history.
func historyEntry(passed bool) history.Entry {
	return history.Entry{Version: "1.0.0", Run: run(1), RunUID: "r1", Passed: passed, EndTime: endTime, Key: run(1) + ".json.gz"}
}

// TestReconcile_Keep: the result of a run that succeeded or failed is
// copied to the history when the run owns it, once; the record says what
// became of it.
func TestReconcile_Keep(t *testing.T) {
	for _, tc := range []struct {
		name  string
		entry contract.Entry
		// result is run(1)'s result, owned by the PipelineRun of uid
		// owner; none when nil.
		result *result.Result
		owner  string
		// raw, when set, replaces the result's result.json.
		raw         string
		wantKept    string
		wantHistory []history.Entry
		wantMetric  string
	}{
		{name: "a succeeded run's own result is kept, passed, under the record's version",
			entry: ended(contract.Succeeded, ""), result: res(true, true, false), owner: "r1",
			wantKept: "history", wantHistory: []history.Entry{historyEntry(true)}, wantMetric: keptInHistory},
		{name: "a result whose SLOs failed is kept, not passed",
			entry: ended(contract.Succeeded, ""), result: res(true, false, false), owner: "r1",
			wantKept: "history", wantHistory: []history.Entry{historyEntry(false)}, wantMetric: keptInHistory},
		{name: "a result that regressed is kept, not passed",
			entry: ended(contract.Succeeded, ""), result: res(true, true, true), owner: "r1",
			wantKept: "history", wantHistory: []history.Entry{historyEntry(false)}, wantMetric: keptInHistory},
		{name: "a result that did not complete is kept, not passed",
			entry: ended(contract.Succeeded, ""), result: res(false, true, false), owner: "r1",
			wantKept: "history", wantHistory: []history.Entry{historyEntry(false)}, wantMetric: keptInHistory},
		{name: "a failed run's result is kept, not passed",
			entry: ended(contract.Failed, ""), result: res(true, true, false), owner: "r1",
			wantKept: "history", wantHistory: []history.Entry{historyEntry(false)}, wantMetric: keptInHistory},
		{name: "a failed run without a result",
			entry:    ended(contract.Failed, ""),
			wantKept: "no result: the run failed before its assess step stored one", wantMetric: keptNoResult},
		{name: "a succeeded run without a result",
			entry:    ended(contract.Succeeded, ""),
			wantKept: "no result: ConfigMap autox/" + run(1) + " is not there (the run stored none, or it was deleted)", wantMetric: keptNoResult},
		{name: "a result the run does not own (forged) is not kept",
			entry: ended(contract.Succeeded, ""), result: res(true, true, false), owner: "forged",
			wantKept: "not kept: result ConfigMap autox/" + run(1) + " is not owned by PipelineRun autox/" + run(1) +
				" (owner uid forged, run uid r1); it was not written by this run: delete it", wantMetric: keptRefused},
		{name: "a result ConfigMap the run owns that holds no result is not kept",
			entry: ended(contract.Succeeded, ""), result: res(true, true, false), owner: "r1", raw: `{"version": "autox.dev/result/v0"}`,
			wantKept:   "not kept: ConfigMap autox/" + run(1) + `: result.json has version "autox.dev/result/v0", this autox reads "autox.dev/result/v1"`,
			wantMetric: keptRefused},
		{name: "a result kept already is not read again",
			entry: ended(contract.Succeeded, "history"), result: res(true, true, false), owner: "r1",
			wantKept: "history"},
		{name: "a cancelled run's result is not kept",
			entry: ended(contract.Cancelled, ""), result: res(true, true, false), owner: "r1"},
		{name: "a timed out run's result is not kept",
			entry: ended(contract.TimedOut, ""), result: res(true, true, false), owner: "r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newKeepFixture(t, tc.entry)
			if tc.result != nil {
				f.save(t, run(1), tc.owner, tc.result)
			}
			if tc.raw != "" {
				cms := f.client.CoreV1().ConfigMaps(ns)
				cm, err := cms.Get(context.Background(), run(1), metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				cm.Data[store.DataKey] = tc.raw
				if _, err := cms.Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			f.client.ClearActions()
			if _, err := f.reconciler.Reconcile(context.Background(), "httpbin/iter8"); err != nil {
				t.Fatal(err)
			}
			if tc.wantMetric == "" && len(f.client.Actions()) > 0 {
				t.Errorf("calls %v; want none: nothing to keep", f.client.Actions())
			}
			if got := f.records.rec.Runs[0].Kept; got != tc.wantKept {
				t.Errorf("Kept = %q; want %q", got, tc.wantKept)
			}
			if diff := cmp.Diff(tc.wantHistory, f.history(t), cmpIgnoreBytes); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			for _, outcome := range []string{keptInHistory, keptNoResult, keptRefused} {
				want := 0.0
				if outcome == tc.wantMetric {
					want = 1
				}
				if got := testutil.ToFloat64(f.metrics.Keeps.WithLabelValues(outcome)); got != want {
					t.Errorf("autox_history_keeps_total{result=%q} = %g; want %g", outcome, got, want)
				}
			}
		})
	}
}

var cmpIgnoreBytes = cmpopts.IgnoreFields(history.Entry{}, "Bytes")

// TestReconcile_KeepOnce: a second reconcile reads nothing and writes
// nothing; keeping again after the record's note was lost (a conflict)
// adds no second entry.
func TestReconcile_KeepOnce(t *testing.T) {
	f := newKeepFixture(t, ended(contract.Succeeded, ""))
	f.save(t, run(1), "r1", res(true, true, false))
	if _, err := f.reconciler.Reconcile(context.Background(), "httpbin/iter8"); err != nil {
		t.Fatal(err)
	}
	f.client.ClearActions()
	writes := f.records.writes
	if _, err := f.reconciler.Reconcile(context.Background(), "httpbin/iter8"); err != nil {
		t.Fatal(err)
	}
	if len(f.client.Actions()) > 0 || f.records.writes != writes {
		t.Errorf("a second reconcile: calls %v, %d record writes; want none", f.client.Actions(), f.records.writes-writes)
	}
	// The record as if its note was lost: the result is looked at again.
	f.records.rec.Runs[0].Kept = ""
	if _, err := f.reconciler.Reconcile(context.Background(), "httpbin/iter8"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]history.Entry{historyEntry(true)}, f.history(t), cmpIgnoreBytes); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if got := f.records.rec.Runs[0].Kept; got != "history" {
		t.Errorf("Kept = %q; want %q", got, "history")
	}
}

// TestReconcile_KeepOutlivesTheRun: the run and its result pruned, the
// history still holds the result, owned by the Trigger, not the run.
func TestReconcile_KeepOutlivesTheRun(t *testing.T) {
	f := newKeepFixture(t, ended(contract.Succeeded, ""))
	f.save(t, run(1), "r1", res(true, true, false))
	if _, err := f.reconciler.Reconcile(context.Background(), "httpbin/iter8"); err != nil {
		t.Fatal(err)
	}
	if err := f.client.CoreV1().ConfigMaps(ns).Delete(context.Background(), run(1), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reconciler.Reconcile(context.Background(), "httpbin/iter8"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]history.Entry{historyEntry(true)}, f.history(t), cmpIgnoreBytes); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	cm, err := f.client.CoreV1().ConfigMaps(systemNS).Get(context.Background(), history.Name("httpbin", "iter8"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.records.rec.Owner(), cm.OwnerReferences); diff != "" {
		t.Errorf("the history's owner: the record's Trigger (-want +got):\n%s", diff)
	}
}

// TestReconcile_KeepRetries: a result that cannot be read for now is
// tried again: the reconcile fails (the queue retries), the entry stays
// to be looked at.
func TestReconcile_KeepRetries(t *testing.T) {
	f := newKeepFixture(t, ended(contract.Succeeded, ""))
	f.save(t, run(1), "r1", res(true, true, false))
	f.client.PrependReactor("get", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() != ns {
			return false, nil, nil
		}
		return true, nil, apierrors.NewServiceUnavailable("etcd is away")
	})
	_, err := f.reconciler.Reconcile(context.Background(), "httpbin/iter8")
	if !apierrors.IsServiceUnavailable(err) {
		t.Errorf("Reconcile: %v; want the ServiceUnavailable, to retry", err)
	}
	if got := f.records.rec.Runs[0].Kept; got != "" {
		t.Errorf("Kept = %q; want it empty: still to be kept", got)
	}
	if h := f.history(t); h != nil {
		t.Errorf("history %v; want none", h)
	}
}

// TestReconcile_KeepOnAnEnd: the reconcile that sees a run succeed keeps
// its result with the record's note of the end.
func TestReconcile_KeepOnAnEnd(t *testing.T) {
	f := newKeepFixture(t, ended(contract.Running, ""))
	f.reconciler.Runs = fakeRuns{run(1): {Name: run(1), UID: "r1", Group: "httpbin", Spec: "iter8", State: contract.Succeeded}}
	f.save(t, run(1), "r1", res(true, true, false))
	if _, err := f.reconciler.Reconcile(context.Background(), "httpbin/iter8"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]contract.Entry{ended(contract.Succeeded, "history")}, f.records.rec.Runs); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]history.Entry{historyEntry(true)}, f.history(t), cmpIgnoreBytes); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}
