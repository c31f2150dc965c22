// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/autox-tekton/autox/internal/contract"
)

type fakeRuns map[string]PipelineRun

func (f fakeRuns) Get(name string) (PipelineRun, bool) {
	r, ok := f[name]
	return r, ok
}

type fakeReaper struct{ runs []string }

func (f *fakeReaper) After(_ context.Context, run string, _ ...time.Duration) ([]string, error) {
	f.runs = append(f.runs, run)
	return nil, nil
}

// TestReconcile: the record follows its runs, and the runs follow the
// record; runs the record does not name are left alone.
func TestReconcile(t *testing.T) {
	e := func(seq int64, version string, state contract.RunState, runUID string, ago time.Duration) contract.Entry {
		return contract.Entry{Seq: seq, Run: run(seq), Version: version, ObjectUID: "dep-1", DecidedAt: t0.Add(-ago), RunUID: runUID, State: state}
	}
	pr := func(seq int64, uid string, state contract.RunState, cancelRequested bool) PipelineRun {
		return PipelineRun{Name: run(seq), UID: uid, Group: "httpbin", Spec: "iter8", State: state, CancelRequested: cancelRequested}
	}
	withdrawn := e(2, "2.0.0", contract.Running, "r2", time.Minute)
	withdrawn.Untested = true
	for _, tc := range []struct {
		name       string
		before     []contract.Entry
		runs       fakeRuns
		want       []contract.Entry
		wantCancel []string
		wantReaped []string
		wantAgain  bool
	}{
		{name: "a launch is seen: its UID noted, running",
			before: []contract.Entry{e(1, "1.0.0", contract.Launched, "", time.Second)},
			runs:   fakeRuns{run(1): pr(1, "r1", contract.Running, false)},
			want:   []contract.Entry{e(1, "1.0.0", contract.Running, "r1", time.Second)}},
		{name: "a run ends",
			before: []contract.Entry{e(1, "1.0.0", contract.Running, "r1", time.Minute)},
			runs:   fakeRuns{run(1): pr(1, "r1", contract.Succeeded, false)},
			want:   []contract.Entry{e(1, "1.0.0", contract.Succeeded, "r1", time.Minute)}},
		{name: "a run pruned after it ended changes nothing",
			before: []contract.Entry{e(1, "1.0.0", contract.Succeeded, "r1", time.Hour)},
			runs:   fakeRuns{},
			want:   []contract.Entry{e(1, "1.0.0", contract.Succeeded, "r1", time.Hour)}},
		{name: "a superseded run that appears after the decision is cancelled",
			before:     []contract.Entry{e(1, "1.0.0", contract.Launched, "", 2*time.Second), e(2, "2.0.0", contract.Launched, "", time.Second)},
			runs:       fakeRuns{run(1): pr(1, "r1", contract.Running, false)},
			want:       []contract.Entry{e(1, "1.0.0", contract.Running, "r1", 2*time.Second), e(2, "2.0.0", contract.Launched, "", time.Second)},
			wantCancel: []string{"autox/" + run(1)}, wantAgain: true},
		{name: "a withdrawn run is cancelled once, then its end noted and its pods reaped",
			before:     []contract.Entry{e(1, "1.0.0", contract.Succeeded, "r1", time.Hour), withdrawn},
			runs:       fakeRuns{run(2): pr(2, "r2", contract.Cancelled, true)},
			want:       []contract.Entry{e(1, "1.0.0", contract.Succeeded, "r1", time.Hour), func() contract.Entry { w := withdrawn; w.State = contract.Cancelled; return w }()},
			wantReaped: []string{run(2)}},
		{name: "a lost launch whose run came late, launched again since: its run is cancelled",
			before: []contract.Entry{func() contract.Entry {
				x := e(1, "1.0.0", contract.Lost, "", time.Minute)
				x.Untested = true
				return x
			}(), e(2, "1.0.0", contract.Launched, "", time.Second)},
			runs: fakeRuns{run(1): pr(1, "r1", contract.Running, false)},
			want: []contract.Entry{func() contract.Entry {
				x := e(1, "1.0.0", contract.Lost, "r1", time.Minute)
				x.Untested = true
				return x
			}(), e(2, "1.0.0", contract.Launched, "", time.Second)},
			wantCancel: []string{"autox/" + run(1)}, wantAgain: true},
		{name: "the latest launch counted lost whose run comes late counts after all",
			before: []contract.Entry{func() contract.Entry {
				x := e(1, "1.0.0", contract.Lost, "", time.Minute)
				x.Untested, x.Reason = true, "its PipelineRun was not made within 15s of the decision"
				return x
			}()},
			runs: fakeRuns{run(1): pr(1, "r1", contract.Running, false)},
			want: []contract.Entry{e(1, "1.0.0", contract.Running, "r1", time.Minute)}},
		{name: "a launch never made is lost, untested",
			before: []contract.Entry{e(1, "1.0.0", contract.Launched, "", time.Minute)},
			runs:   fakeRuns{},
			want: []contract.Entry{func() contract.Entry {
				x := e(1, "1.0.0", contract.Lost, "", time.Minute)
				x.Untested, x.Reason = true, "its PipelineRun was not made within 15s of the decision"
				return x
			}()}},
		{name: "a run deleted while it ran",
			before: []contract.Entry{e(1, "1.0.0", contract.Running, "r1", time.Minute)},
			runs:   fakeRuns{},
			want: []contract.Entry{func() contract.Entry {
				x := e(1, "1.0.0", contract.Deleted, "r1", time.Minute)
				x.Reason = "its PipelineRun was deleted before it ended"
				return x
			}()}},
		{name: "another run under a run's name is not the record's",
			before: []contract.Entry{e(1, "1.0.0", contract.Succeeded, "r1", time.Hour), e(2, "2.0.0", contract.Running, "r2", time.Minute)},
			runs:   fakeRuns{run(1): pr(1, "forged", contract.Running, false)},
			want: []contract.Entry{e(1, "1.0.0", contract.Succeeded, "r1", time.Hour), func() contract.Entry {
				x := e(2, "2.0.0", contract.Deleted, "r2", time.Minute)
				x.Reason = "its PipelineRun was deleted before it ended"
				return x
			}()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			records := &memRecords{rec: &StoredRecord{Record: contract.Record{Group: "httpbin", Spec: "iter8", TriggerUID: "tr-1", Seq: int64(len(tc.before)), Runs: tc.before}, UID: "rec-1", ResourceVersion: "1"}, rv: 1}
			canceller := &fakeCanceller{}
			reaper := &fakeReaper{}
			r := NewReconciler(&Reconciler{RunsNamespace: ns, Records: records, Runs: tc.runs, Canceller: canceller, Reaper: reaper,
				Metrics: NewMetrics(prometheus.NewRegistry()), Log: testLogger(t), Now: func() time.Time { return t0 }})
			again, err := r.Reconcile(context.Background(), "httpbin/iter8")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, records.rec.Runs); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCancel, canceller.cancelled); diff != "" {
				t.Errorf("cancelled (-want +got):\n%s", diff)
			}
			r.reaping.Wait() // the reaper runs off the queue
			if diff := cmp.Diff(tc.wantReaped, reaper.runs); diff != "" {
				t.Errorf("reaped (-want +got):\n%s", diff)
			}
			if (again > 0) != tc.wantAgain {
				t.Errorf("again %s, want again %t", again, tc.wantAgain)
			}
		})
	}
}

// TestReconcile_RecordGone: a record deleted with its Trigger leaves no
// run of it going; another group's run of the same name prefix is not
// touched.
func TestReconcile_RecordGone(t *testing.T) {
	canceller := &fakeCanceller{}
	runs := fakeRuns{
		run(1): {Name: run(1), UID: "r1", State: contract.Succeeded},
		run(2): {Name: run(2), UID: "r2", State: contract.Running},
		run(3): {Name: run(3), UID: "someone-else", State: contract.Running},
	}
	r := NewReconciler(&Reconciler{RunsNamespace: ns, Records: &memRecords{}, Runs: runs, Canceller: canceller,
		Metrics: NewMetrics(prometheus.NewRegistry()), Log: testLogger(t), Now: func() time.Time { return t0 }})
	r.Gone(contract.Record{Group: "httpbin", Spec: "iter8", Seq: 3, Runs: []contract.Entry{
		{Seq: 1, Run: run(1), RunUID: "r1", State: contract.Succeeded},
		{Seq: 2, Run: run(2), RunUID: "r2", State: contract.Running},
		{Seq: 3, Run: run(3), RunUID: "r3", State: contract.Running},
	}})
	if _, err := r.Reconcile(context.Background(), "httpbin/iter8"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"autox/" + run(2)}, canceller.cancelled); diff != "" {
		t.Errorf("cancelled (-want +got):\n%s", diff)
	}
	if _, err := r.Reconcile(context.Background(), "httpbin/iter8"); err != nil || len(canceller.cancelled) != 1 {
		t.Errorf("a second look: %v, cancelled %v; want nothing more", err, canceller.cancelled)
	}
}
