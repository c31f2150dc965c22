// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package decide is the trigger decision, with no I/O: given the trigger
// object as the cluster holds it and the group/spec's record, it says
// whether to launch a run, under which name, why, which runs to cancel,
// and the record to write. It never looks at an event's claims or at the
// set of PipelineRuns: the object and the record are the state.
package decide

import (
	"fmt"
	"strings"
	"time"

	"github.com/autox-tekton/autox/internal/contract"
)

// Object is the trigger object as the cluster holds it.
type Object struct {
	// Exists is false when the object is not there (deleted, or never made).
	Exists bool
	UID    string
	// Version is its version label; "" when it has none (an empty value
	// counts as none: there is no version to test).
	Version string
}

// Decision is the outcome for one look at the object.
type Decision struct {
	// Launch is the new launch, when a run must be made.
	Launch *contract.Entry
	// Record is the record to write when Changed.
	Record  contract.Record
	Changed bool
	// Cancel are the launches whose runs must stop, oldest first.
	Cancel []contract.Entry
	// Reason says why, for people reading the interceptor's log and the
	// EventListener's.
	Reason string
}

// Decide returns the decision for group g on object obj, given its record
// rec (the zero Record when there is none yet, recordUID "" then: the
// caller creates the record and decides again with its UID), at now. The
// rules (DESIGN.md):
//   - no object, or no version label: withdraw every launch still going
//     (cancel its run; it counts as untested), launch nothing;
//   - the latest launch is of this version of this object and counts
//     (not withdrawn, not lost): launch nothing;
//   - otherwise: launch the next number, and cancel every run still going.
//
// A version label that is not a valid label value (a newline, more than
// 63 characters: the API server stores none such, but a cache or an
// event might claim one) cannot be a run's label: the decision changes
// nothing, neither launches nor cancels, and says why.
func Decide(g contract.Group, rec contract.Record, recordUID string, obj Object, now time.Time) Decision {
	if err := obj.invalid(); err != nil {
		return Decision{Record: rec, Reason: err.Error()}
	}
	what := g.Key()
	d := Decision{Record: rec}
	d.Record.Runs = append([]contract.Entry(nil), rec.Runs...)
	if rec.Group == "" {
		d.Record.Group, d.Record.Spec = g.Group, g.Spec
		d.Changed = true
	}
	if rec.TriggerUID != g.TriggerUID || rec.Trigger != g.TriggerName {
		d.Record.Trigger, d.Record.TriggerUID = g.TriggerName, g.TriggerUID
		d.Changed = true
	}
	// A launch not seen within LostAfter was never made.
	for i := range d.Record.Runs {
		if e := &d.Record.Runs[i]; e.LostAt(now) {
			e.State, e.Untested = contract.Lost, true
			e.Reason = fmt.Sprintf("its PipelineRun was not made within %s of the decision", contract.LostAfter)
			d.Changed = true
		}
	}
	if !obj.Exists || obj.Version == "" {
		why := "the object was deleted"
		if obj.Exists {
			why = fmt.Sprintf("the object has no version label %s", contract.VersionLabel)
		}
		for i := range d.Record.Runs {
			e := &d.Record.Runs[i]
			if !e.Active() {
				continue
			}
			if !e.Untested {
				e.Untested, e.Reason = true, "cancelled untested: "+why
				d.Changed = true
			}
			d.Cancel = append(d.Cancel, *e)
		}
		if len(d.Cancel) == 0 {
			d.Reason = fmt.Sprintf("%s; no run of %s is going; nothing to launch", why, what)
		} else {
			d.Reason = why + "; nothing to launch" + cancelling(d.Cancel)
		}
		return d
	}
	latest, ok := d.Record.Latest()
	sameConfig := rec.TriggerUID == g.TriggerUID
	if ok && sameConfig && latest.Version == obj.Version && latest.ObjectUID == obj.UID && latest.Counts(now) {
		for _, e := range d.Record.Runs[:len(d.Record.Runs)-1] {
			if e.Active() {
				d.Cancel = append(d.Cancel, e)
			}
		}
		d.Reason = fmt.Sprintf("version %q of %s is already tested by the latest run %s (%s); nothing to launch", obj.Version, what, latest.Run, latest.State) + cancelling(d.Cancel)
		return d
	}
	if recordUID == "" {
		// The record must exist first: its UID is part of every run name.
		d.Reason = "no record yet"
		d.Changed = true
		return d
	}
	why := "no run yet"
	switch {
	case !ok:
	case !sameConfig:
		why = fmt.Sprintf("the Trigger %s was made again, so its earlier runs do not count", g.TriggerName)
	case latest.Version != obj.Version:
		why = fmt.Sprintf("the latest run %s tested %q", latest.Run, latest.Version)
	case latest.ObjectUID != obj.UID:
		why = fmt.Sprintf("the object was made again since the latest run %s", latest.Run)
	default:
		why = fmt.Sprintf("the latest run %s of it did not test it (%s)", latest.Run, latest.Reason)
	}
	seq := d.Record.Seq + 1
	e := contract.Entry{
		Seq:       seq,
		Run:       contract.RunName(g.Group, g.Spec, recordUID, seq),
		Version:   obj.Version,
		ObjectUID: obj.UID,
		DecidedAt: now.UTC(),
		State:     contract.Launched,
	}
	for i := range d.Record.Runs {
		old := &d.Record.Runs[i]
		if !old.Active() {
			continue
		}
		if old.Reason == "" {
			old.Reason = fmt.Sprintf("superseded by %s (version %q)", e.Run, e.Version)
		}
		d.Cancel = append(d.Cancel, *old)
	}
	d.Record.Seq = seq
	d.Record.Runs = append(d.Record.Runs, e)
	d.Record.Trim()
	d.Changed = true
	d.Launch = &e
	d.Reason = fmt.Sprintf("version %q of %s is new: %s; launching %s", obj.Version, what, why, e.Run) + cancelling(d.Cancel)
	return d
}

func cancelling(es []contract.Entry) string {
	if len(es) == 0 {
		return ""
	}
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Run
	}
	return "; cancelling " + strings.Join(names, ", ")
}

// invalid says why obj's version cannot be tested, nil when it can (or
// when there is none).
func (o Object) invalid() error {
	if !o.Exists || o.Version == "" {
		return nil
	}
	if err := contract.CheckLabelValue("the object's label "+contract.VersionLabel, o.Version); err != nil {
		return fmt.Errorf("%w, so it cannot be a run's label: nothing launched or cancelled, the record left as it is; label the object with a valid version", err)
	}
	return nil
}

// Agrees says whether the record already shows what the object asks
// for: its version launched (and counting), or, with no version, nothing
// going. The watcher asks again, with backoff, until it does: a version
// labelled while the EventListener or the interceptor was down is then
// launched soon after they are back. An object whose version is not a
// valid label value asks for nothing (Decide refuses it), so it agrees:
// the watcher does not ask about it over and over.
func Agrees(g contract.Group, rec contract.Record, obj Object, now time.Time) bool {
	if obj.invalid() != nil {
		return true
	}
	if !obj.Exists || obj.Version == "" {
		for _, e := range rec.Runs {
			if e.Active() && !e.Untested {
				return false
			}
		}
		return true
	}
	latest, ok := rec.Latest()
	return ok && rec.TriggerUID == g.TriggerUID && latest.Version == obj.Version && latest.ObjectUID == obj.UID && latest.Counts(now)
}

// ShouldStop lists the launches of rec whose runs must not go on: all but
// the latest, and the latest too when it was withdrawn or lost. The
// reconciler cancels those whose runs it sees going, so a run made a
// moment after the decision that superseded it, or after its launch was
// counted lost, still stops.
func ShouldStop(rec contract.Record) []contract.Entry {
	var out []contract.Entry
	for i, e := range rec.Runs {
		latest := i == len(rec.Runs)-1
		if !latest || e.Untested || e.State == contract.Lost {
			out = append(out, e)
		}
	}
	return out
}

// Seen notes in rec the runs seen of launches still marked launched (the
// reconciler notes them too, a moment later): a launch whose run exists is
// not lost, however late the reconciler is. seen reports a run's UID by
// name.
func Seen(rec contract.Record, seen func(run string) (uid string, ok bool)) contract.Record {
	out := rec
	out.Runs = append([]contract.Entry(nil), rec.Runs...)
	for i := range out.Runs {
		if e := &out.Runs[i]; e.State == contract.Launched {
			if uid, ok := seen(e.Run); ok {
				e.State, e.RunUID = contract.Running, uid
			}
		}
	}
	return out
}
