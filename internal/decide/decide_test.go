// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package decide

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/contract"
)

var (
	t0   = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	grp  = contract.Group{TriggerName: "autox-httpbin-iter8", TriggerUID: "tr-1", Params: contract.Params{Group: "httpbin", Spec: "iter8"}}
	live = func(v string) Object { return Object{Exists: true, UID: "obj-1", Version: v} }
)

// entry is a launch of the record, n seconds after t0.
func entry(seq int64, version string, state contract.RunState, n int) contract.Entry {
	return contract.Entry{Seq: seq, Run: contract.RunName("httpbin", "iter8", "rec-1", seq), Version: version, ObjectUID: "obj-1",
		DecidedAt: t0.Add(time.Duration(n) * time.Second), RunUID: "run-" + version, State: state}
}

func record(es ...contract.Entry) contract.Record {
	r := contract.Record{Group: "httpbin", Spec: "iter8", Trigger: "autox-httpbin-iter8", TriggerUID: "tr-1", Runs: es}
	for _, e := range es {
		r.Seq = max(r.Seq, e.Seq)
	}
	return r
}

func runs(d Decision) []string {
	var out []string
	for _, e := range d.Cancel {
		out = append(out, e.Version)
	}
	return out
}

// TestDecide_Launches: the object carries a version the record does not
// show as tested (or being tested) for this object and this Trigger.
func TestDecide_Launches(t *testing.T) {
	withdrawn := entry(1, "1.0.0", contract.Cancelled, 0)
	withdrawn.Untested = true
	recreated := entry(1, "1.0.0", contract.Succeeded, 0)
	recreated.ObjectUID = "obj-0"
	oldTrigger := record(entry(1, "1.0.0", contract.Succeeded, 0))
	oldTrigger.TriggerUID = "tr-0"
	for _, tc := range []struct {
		name       string
		rec        contract.Record
		obj        Object
		now        time.Time
		wantSeq    int64
		wantCancel []string
		wantReason string
	}{
		{name: "no run yet", rec: contract.Record{}, obj: live("1.0.0"), now: t0, wantSeq: 1,
			wantReason: `version "1.0.0" of httpbin/iter8 is new: no run yet; launching ` + contract.RunName("httpbin", "iter8", "rec-1", 1)},
		{name: "a new version cancels the run going", rec: record(entry(1, "1.0.0", contract.Running, 0)), obj: live("2.0.0"), now: t0.Add(time.Minute),
			wantSeq: 2, wantCancel: []string{"1.0.0"},
			wantReason: `version "2.0.0" of httpbin/iter8 is new: the latest run ` + contract.RunName("httpbin", "iter8", "rec-1", 1) + ` tested "1.0.0"; launching ` + contract.RunName("httpbin", "iter8", "rec-1", 2) + `; cancelling ` + contract.RunName("httpbin", "iter8", "rec-1", 1)},
		{name: "a revert to a version tested before", rec: record(entry(1, "1.0.0", contract.Succeeded, 0), entry(2, "2.0.0", contract.Succeeded, 1)), obj: live("1.0.0"), now: t0.Add(time.Minute), wantSeq: 3},
		{name: "the label put back after a cancel for its removal", rec: record(withdrawn), obj: live("1.0.0"), now: t0.Add(time.Minute), wantSeq: 2},
		{name: "the object made again at the same version", rec: record(recreated), obj: live("1.0.0"), now: t0.Add(time.Minute), wantSeq: 2},
		{name: "a launch whose run never came", rec: record(entry(1, "1.0.0", contract.Launched, 0)), obj: live("1.0.0"), now: t0.Add(contract.LostAfter + time.Second), wantSeq: 2},
		{name: "the Trigger made again", rec: oldTrigger, obj: live("1.0.0"), now: t0.Add(time.Minute), wantSeq: 2},
		{name: "a run deleted before it ended", rec: record(entry(1, "1.0.0", contract.Deleted, 0)), obj: live("1.0.0"), now: t0.Add(time.Minute), wantSeq: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(grp, tc.rec, "rec-1", tc.obj, tc.now)
			if d.Launch == nil {
				t.Fatalf("no launch: %s", d.Reason)
			}
			want := contract.Entry{Seq: tc.wantSeq, Run: contract.RunName("httpbin", "iter8", "rec-1", tc.wantSeq), Version: tc.obj.Version,
				ObjectUID: tc.obj.UID, DecidedAt: tc.now, State: contract.Launched}
			if diff := cmp.Diff(want, *d.Launch); diff != "" {
				t.Errorf("launch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCancel, runs(d)); diff != "" {
				t.Errorf("cancel (-want +got):\n%s", diff)
			}
			if tc.wantReason != "" && d.Reason != tc.wantReason {
				t.Errorf("reason:\n got %s\nwant %s", d.Reason, tc.wantReason)
			}
			if !d.Changed || d.Record.Seq != tc.wantSeq || d.Record.Runs[len(d.Record.Runs)-1] != want || d.Record.TriggerUID != "tr-1" {
				t.Errorf("record to write: changed %t, %+v", d.Changed, d.Record)
			}
		})
	}
}

// TestDecide_DoesNotLaunch: the record already shows the version, or
// there is no version to test.
func TestDecide_DoesNotLaunch(t *testing.T) {
	run1 := contract.RunName("httpbin", "iter8", "rec-1", 1)
	for _, tc := range []struct {
		name         string
		rec          contract.Record
		obj          Object
		now          time.Time
		wantCancel   []string
		wantUntested []bool
		wantReason   string
	}{
		{name: "the same version again (a duplicate, a re-list, a forged claim)", rec: record(entry(1, "1.0.0", contract.Succeeded, 0)), obj: live("1.0.0"), now: t0.Add(time.Hour),
			wantUntested: []bool{false},
			wantReason:   `version "1.0.0" of httpbin/iter8 is already tested by the latest run ` + run1 + ` (succeeded); nothing to launch`},
		{name: "launched a moment ago, its run not seen yet", rec: record(entry(1, "1.0.0", contract.Launched, 0)), obj: live("1.0.0"), now: t0.Add(time.Second),
			wantUntested: []bool{false}},
		{name: "label removed while it runs: cancelled, untested", rec: record(entry(1, "1.0.0", contract.Running, 0)), obj: live(""), now: t0.Add(time.Second),
			wantCancel: []string{"1.0.0"}, wantUntested: []bool{true},
			wantReason: `the object has no version label app.kubernetes.io/version; nothing to launch; cancelling ` + run1},
		{name: "object deleted while it runs", rec: record(entry(1, "1.0.0", contract.Running, 0)), obj: Object{}, now: t0.Add(time.Second),
			wantCancel: []string{"1.0.0"}, wantUntested: []bool{true},
			wantReason: `the object was deleted; nothing to launch; cancelling ` + run1},
		{name: "object deleted after its run ended: it stays tested", rec: record(entry(1, "1.0.0", contract.Succeeded, 0)), obj: Object{}, now: t0.Add(time.Second),
			wantUntested: []bool{false},
			wantReason:   `the object was deleted; no run of httpbin/iter8 is going; nothing to launch`},
		{name: "no object and no record", rec: contract.Record{}, obj: Object{}, now: t0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(grp, tc.rec, "rec-1", tc.obj, tc.now)
			if d.Launch != nil {
				t.Fatalf("launched %s: %s", d.Launch.Run, d.Reason)
			}
			if diff := cmp.Diff(tc.wantCancel, runs(d)); diff != "" {
				t.Errorf("cancel (-want +got):\n%s", diff)
			}
			var untested []bool
			for _, e := range d.Record.Runs {
				untested = append(untested, e.Untested)
			}
			if diff := cmp.Diff(tc.wantUntested, untested); diff != "" {
				t.Errorf("untested (-want +got):\n%s", diff)
			}
			if tc.wantReason != "" && d.Reason != tc.wantReason {
				t.Errorf("reason:\n got %s\nwant %s", d.Reason, tc.wantReason)
			}
			if d.Record.Seq != tc.rec.Seq {
				t.Errorf("seq %d, want %d unchanged", d.Record.Seq, tc.rec.Seq)
			}
		})
	}
}

// TestDecide_RecordIsNotMutated: the caller's record is left as it was
// (a cache's object must not change under it).
func TestDecide_RecordIsNotMutated(t *testing.T) {
	rec := record(entry(1, "1.0.0", contract.Running, 0))
	before := record(entry(1, "1.0.0", contract.Running, 0))
	Decide(grp, rec, "rec-1", live(""), t0.Add(time.Second))
	Decide(grp, rec, "rec-1", live("2.0.0"), t0.Add(time.Second))
	if diff := cmp.Diff(before, rec); diff != "" {
		t.Errorf("record changed (-before +after):\n%s", diff)
	}
}

func TestAgrees(t *testing.T) {
	withdrawnGoing := entry(1, "1.0.0", contract.Running, 0)
	withdrawnGoing.Untested = true
	for _, tc := range []struct {
		name string
		rec  contract.Record
		obj  Object
		now  time.Time
		want bool
	}{
		{"tested", record(entry(1, "1.0.0", contract.Succeeded, 0)), live("1.0.0"), t0, true},
		{"launched, not seen yet", record(entry(1, "1.0.0", contract.Launched, 0)), live("1.0.0"), t0.Add(time.Second), true},
		{"launched and lost", record(entry(1, "1.0.0", contract.Launched, 0)), live("1.0.0"), t0.Add(time.Minute), false},
		{"a new version", record(entry(1, "1.0.0", contract.Succeeded, 0)), live("2.0.0"), t0, false},
		{"no record", contract.Record{}, live("1.0.0"), t0, false},
		{"no version, nothing going", record(entry(1, "1.0.0", contract.Succeeded, 0)), live(""), t0, true},
		{"no version, a run going", record(entry(1, "1.0.0", contract.Running, 0)), live(""), t0, false},
		{"no version, the run going already withdrawn", record(withdrawnGoing), live(""), t0, true},
		{"no object, no record", contract.Record{}, Object{}, t0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Agrees(grp, tc.rec, tc.obj, tc.now); got != tc.want {
				t.Errorf("Agrees = %t, want %t", got, tc.want)
			}
		})
	}
}

func TestShouldStop(t *testing.T) {
	withdrawn := entry(3, "3.0.0", contract.Running, 2)
	withdrawn.Untested = true
	lost := entry(2, "2.0.0", contract.Lost, 1)
	lost.Untested = true
	for _, tc := range []struct {
		name string
		rec  contract.Record
		want []string
	}{
		{"the latest runs on", record(entry(1, "1.0.0", contract.Succeeded, 0), entry(2, "2.0.0", contract.Running, 1)), []string{"1.0.0"}},
		{"a superseded run still going", record(entry(1, "1.0.0", contract.Running, 0), entry(2, "2.0.0", contract.Launched, 1)), []string{"1.0.0"}},
		{"the latest withdrawn", record(entry(1, "1.0.0", contract.Succeeded, 0), withdrawn), []string{"1.0.0", "3.0.0"}},
		{"a lost launch whose run came late, launched again since", record(lost, entry(3, "2.0.0", contract.Launched, 20)), []string{"2.0.0"}},
		{"the latest lost", record(entry(1, "1.0.0", contract.Succeeded, 0), lost), []string{"1.0.0", "2.0.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range ShouldStop(tc.rec) {
				got = append(got, e.Version)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSeen: a launch whose run exists is running, not lost, whatever the
// clock says.
func TestSeen(t *testing.T) {
	rec := record(entry(1, "1.0.0", contract.Succeeded, 0), contract.Entry{Seq: 2, Run: "r2", Version: "2.0.0", ObjectUID: "obj-1", DecidedAt: t0, State: contract.Launched})
	got := Seen(rec, func(run string) (string, bool) { return "uid-" + run, run == "r2" })
	if e := got.Runs[1]; e.State != contract.Running || e.RunUID != "uid-r2" {
		t.Errorf("the seen launch is %s with run UID %q, want running with uid-r2", e.State, e.RunUID)
	}
	if rec.Runs[1].State != contract.Launched {
		t.Error("Seen changed the record it was given")
	}
	if d := Decide(grp, got, "rec-1", live("2.0.0"), t0.Add(time.Hour)); d.Launch != nil {
		t.Errorf("launched again a version whose run exists: %s", d.Reason)
	}
}
