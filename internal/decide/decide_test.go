package decide

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// run is a PipelineRun of httpbin/iter8 created at t0 plus minutes.
func run(name, version string, minutes int, state string) Run {
	r := Run{Namespace: "default", Name: name, UID: "uid-" + name, Version: version, Created: t0.Add(time.Duration(minutes) * time.Minute)}
	switch state {
	case "done":
		r.Done = true
	case "cancelling":
		r.CancelRequested = true
	}
	return r
}

func TestRunName(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		group, spec, ver, uid string
		want                  string
	}{
		// sha256("httpbin/iter8/1.0.0/") and sha256("httpbin/iter8/2.0.0/uid-1"), by sha256sum.
		{"first run hashes with no uid", "httpbin", "iter8", "1.0.0", "", "autox-httpbin-iter8-e9b73465e5"},
		{"later run hashes with the latest run's uid", "httpbin", "iter8", "2.0.0", "uid-1", "autox-httpbin-iter8-2df73b29d3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, RunName(tc.group, tc.spec, tc.ver, tc.uid)); diff != "" {
				t.Errorf("RunName (-want +got):\n%s", diff)
			}
		})
	}
	// A revert gets a new name: 1.0.0 after a 2.0.0 run is not the first 1.0.0.
	if RunName("httpbin", "iter8", "1.0.0", "uid-2") == RunName("httpbin", "iter8", "1.0.0", "") {
		t.Error("a revert to 1.0.0 after another run got the first 1.0.0 run's name")
	}
	// The longest group and spec still fit a label value.
	long := RunName(string(make([]byte, MaxGroupSpecLength)), "", "1", "")
	if len(long) != 63 {
		t.Errorf("run name with group+spec of %d characters is %d long, want 63", MaxGroupSpecLength, len(long))
	}
}

// TestDecide_Launches: the events that create a run.
func TestDecide_Launches(t *testing.T) {
	r1 := run("r1", "1.0.0", 1, "done")
	r2 := run("r2", "2.0.0", 2, "done")
	r2running := run("r2", "2.0.0", 2, "")
	r3running := run("r3", "3.0.0", 3, "")
	for _, tc := range []struct {
		name string
		ev   Event
		runs []Run
		want Decision
	}{{
		name: "first version, no run yet",
		ev:   Event{Version: "1.0.0"},
		want: Decision{Launch: true, RunName: "autox-httpbin-iter8-e9b73465e5",
			Reason: `version "1.0.0" of httpbin/iter8 is new: no run yet; launching autox-httpbin-iter8-e9b73465e5`},
	}, {
		name: "new version after a finished run",
		ev:   Event{Version: "2.0.0", OldVersion: "1.0.0"},
		runs: []Run{r1},
		want: Decision{Launch: true, RunName: RunName("httpbin", "iter8", "2.0.0", "uid-r1"),
			Reason: `version "2.0.0" of httpbin/iter8 is new: the latest run r1 tested "1.0.0"; launching ` + RunName("httpbin", "iter8", "2.0.0", "uid-r1")},
	}, {
		name: "new version cancels the running runs, oldest first",
		ev:   Event{Version: "4.0.0"},
		runs: []Run{r3running, r1, r2running},
		want: Decision{Launch: true, RunName: RunName("httpbin", "iter8", "4.0.0", "uid-r3"), Cancel: []Run{r2running, r3running},
			Reason: `version "4.0.0" of httpbin/iter8 is new: the latest run r3 tested "3.0.0"; launching ` + RunName("httpbin", "iter8", "4.0.0", "uid-r3") + "; cancelling r2, r3"},
	}, {
		name: "a run already being cancelled is not cancelled again",
		ev:   Event{Version: "3.0.0"},
		runs: []Run{r1, run("r2", "2.0.0", 2, "cancelling")},
		want: Decision{Launch: true, RunName: RunName("httpbin", "iter8", "3.0.0", "uid-r2"),
			Reason: `version "3.0.0" of httpbin/iter8 is new: the latest run r2 tested "2.0.0"; launching ` + RunName("httpbin", "iter8", "3.0.0", "uid-r2")},
	}, {
		name: "revert to a version tested before the latest run",
		ev:   Event{Version: "1.0.0", OldVersion: "2.0.0"},
		runs: []Run{r1, r2},
		want: Decision{Launch: true, RunName: RunName("httpbin", "iter8", "1.0.0", "uid-r2"),
			Reason: `version "1.0.0" of httpbin/iter8 is new: the latest run r2 tested "2.0.0"; launching ` + RunName("httpbin", "iter8", "1.0.0", "uid-r2")},
	}, {
		name: "latest by creation time, ties broken by the greater name",
		ev:   Event{Version: "3.0.0"},
		runs: []Run{run("rb", "2.0.0", 5, "done"), run("ra", "3.0.0", 5, "done")},
		want: Decision{Launch: true, RunName: RunName("httpbin", "iter8", "3.0.0", "uid-rb"),
			Reason: `version "3.0.0" of httpbin/iter8 is new: the latest run rb tested "2.0.0"; launching ` + RunName("httpbin", "iter8", "3.0.0", "uid-rb")},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Decide("httpbin", "iter8", tc.ev, tc.runs)); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
			// A cache that keeps only the relevant runs decides the same.
			if diff := cmp.Diff(tc.want, Decide("httpbin", "iter8", tc.ev, Relevant(tc.runs))); diff != "" {
				t.Errorf("Decide on Relevant(runs) (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecide_DoesNotLaunch: the events that create no run (some cancel).
func TestDecide_DoesNotLaunch(t *testing.T) {
	r1 := run("r1", "1.0.0", 1, "done")
	r1running := run("r1", "1.0.0", 1, "")
	r2running := run("r2", "2.0.0", 2, "")
	for _, tc := range []struct {
		name string
		ev   Event
		runs []Run
		want Decision
	}{{
		name: "same version as the latest run (a duplicate, a re-list, a scale, an image change)",
		ev:   Event{Version: "1.0.0", OldVersion: "1.0.0"},
		runs: []Run{r1},
		want: Decision{Reason: `version "1.0.0" of httpbin/iter8 is already tested by the latest run r1; nothing to launch`},
	}, {
		name: "same version as the latest run that is still running: it goes on",
		ev:   Event{Version: "2.0.0"},
		runs: []Run{r1, r2running},
		want: Decision{Reason: `version "2.0.0" of httpbin/iter8 is already tested by the latest run r2; nothing to launch`},
	}, {
		name: "same version as the latest run: an older run of another version still running is cancelled",
		ev:   Event{Version: "2.0.0"},
		runs: []Run{r1running, r2running},
		want: Decision{Cancel: []Run{r1running},
			Reason: `version "2.0.0" of httpbin/iter8 is already tested by the latest run r2; nothing to launch; cancelling r1`},
	}, {
		name: "label removed while a run is going",
		ev:   Event{OldVersion: "2.0.0"},
		runs: []Run{r1, r2running},
		want: Decision{Cancel: []Run{r2running},
			Reason: `the version label app.kubernetes.io/version was removed (it was "2.0.0"); nothing to launch; cancelling r2`},
	}, {
		name: "no label and no old object (a re-list, an ApiServerSource event)",
		ev:   Event{},
		runs: []Run{r2running},
		want: Decision{Cancel: []Run{r2running},
			Reason: `the object has no version label app.kubernetes.io/version; nothing to launch; cancelling r2`},
	}, {
		name: "no label, nothing running",
		ev:   Event{},
		runs: []Run{r1},
		want: Decision{Reason: `the object has no version label app.kubernetes.io/version; no run of httpbin/iter8 is running; nothing to launch`},
	}, {
		name: "object deleted while runs are going",
		ev:   Event{Deleted: true, Version: "2.0.0"},
		runs: []Run{r2running, r1running},
		want: Decision{Cancel: []Run{r1running, r2running},
			Reason: `the object was deleted; nothing to launch; cancelling r1, r2`},
	}, {
		name: "object deleted, no run at all",
		ev:   Event{Deleted: true},
		want: Decision{Reason: `the object was deleted; no run of httpbin/iter8 is running; nothing to launch`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Decide("httpbin", "iter8", tc.ev, tc.runs)); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
			// A cache that keeps only the relevant runs decides the same.
			if diff := cmp.Diff(tc.want, Decide("httpbin", "iter8", tc.ev, Relevant(tc.runs))); diff != "" {
				t.Errorf("Decide on Relevant(runs) (-want +got):\n%s", diff)
			}
		})
	}
}
