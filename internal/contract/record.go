// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package contract

import (
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// A record is what autox knows of one group and spec: which versions it
// launched, under which run names, and how each run ended. It is a
// ConfigMap in the install namespace that only autox writes, with
// optimistic concurrency (every write names the resourceVersion it read),
// so two interceptors deciding on one event make one launch. The set of
// PipelineRuns is not the record: deleting, pruning or forging runs
// changes no decision.

// RecordKey is the key of the record's JSON in the ConfigMap's data.
const RecordKey = "record.json"

// MaxRecordRuns is how many ended runs a record keeps (it keeps every
// run still going besides): the latest decides, the others are history
// for people.
const MaxRecordRuns = 20

// LostAfter is how long a launch may go without its PipelineRun being
// seen before it counts as never made (an EventListener that failed after
// the decision, or a request that did not come from it): the version is
// then launched again under a new name.
const LostAfter = 15 * time.Second

// RecordName is the record's ConfigMap: autox-record-<group>.<spec>
// (group and spec are DNS labels, so the dot keeps every pair apart).
func RecordName(group, spec string) string { return "autox-record-" + group + "." + spec }

// RunState is where a launched run is, as the record knows it.
type RunState string

const (
	// Launched: decided, its PipelineRun not seen yet.
	Launched RunState = "launched"
	// Running: its PipelineRun was seen and has not ended.
	Running   RunState = "running"
	Succeeded RunState = "succeeded"
	Failed    RunState = "failed"
	Cancelled RunState = "cancelled"
	TimedOut  RunState = "timed out"
	// Lost: its PipelineRun was not seen within LostAfter of the launch.
	Lost RunState = "lost"
	// Deleted: its PipelineRun was deleted before it ended.
	Deleted RunState = "deleted"
)

// Record is the data of a record ConfigMap.
type Record struct {
	Group string `json:"group"`
	Spec  string `json:"spec"`
	// Trigger and TriggerUID are the Trigger the record follows. A Trigger
	// deleted and made again is a new configuration: what the record says
	// of the old one's runs no longer counts as tested.
	Trigger    string `json:"trigger"`
	TriggerUID string `json:"triggerUID"`
	// Seq is the number of the last launch; the next is Seq+1. It never
	// goes back, so run names are never reused.
	Seq int64 `json:"seq"`
	// Runs are the launches, oldest first: every one still going, and at
	// most MaxRecordRuns that ended.
	Runs []Entry `json:"runs"`
}

// Entry is one launch.
type Entry struct {
	Seq int64 `json:"seq"`
	// Run is the PipelineRun's name in the install namespace.
	Run     string `json:"run"`
	Version string `json:"version"`
	// ObjectUID is the trigger object's UID when it was launched: the
	// object deleted and made again is a new object to test.
	ObjectUID string    `json:"objectUID"`
	DecidedAt time.Time `json:"decidedAt"`
	// RunUID is the PipelineRun's UID, once seen.
	RunUID string   `json:"runUID,omitempty"`
	State  RunState `json:"state"`
	// Untested is set when autox withdrew the launch: the label was
	// removed or the object deleted while the run was going (autox
	// cancels it), or the run was never made. The version then counts as
	// not tested, and launches again.
	Untested bool `json:"untested,omitempty"`
	// Reason says why the run ended, was withdrawn or superseded.
	Reason string `json:"reason,omitempty"`
	// Kept says whether the result of a run that succeeded or failed was
	// copied to the group's history (internal/history): KeptInHistory
	// once it was, otherwise why not ("no result: ...", "not kept:
	// ..."). Empty while it is still to be looked at; set once, so each
	// result is read once.
	Kept string `json:"kept,omitempty"`
}

// KeptInHistory is Entry.Kept of a run whose result is in the history.
const KeptInHistory = "history"

// ToKeep says whether the run ended with a result to copy to the history
// that was not looked at yet: it succeeded or failed (a run cancelled,
// timed out, lost or deleted is no version's measure) and its UID, which
// the result's owner must be, is known.
func (e Entry) ToKeep() bool {
	return (e.State == Succeeded || e.State == Failed) && e.RunUID != "" && e.Kept == ""
}

// Active says whether the run may still be going.
func (e Entry) Active() bool { return e.State == Launched || e.State == Running }

// Counts says whether the launch counts as the version tested (or being
// tested) at now.
func (e Entry) Counts(now time.Time) bool {
	return !e.Untested && e.State != Lost && e.State != Deleted && !e.LostAt(now)
}

// LostAt says whether the launch, still not seen, is past LostAfter.
func (e Entry) LostAt(now time.Time) bool {
	return e.State == Launched && now.Sub(e.DecidedAt) > LostAfter
}

// Latest is the newest launch, if any.
func (r Record) Latest() (Entry, bool) {
	if len(r.Runs) == 0 {
		return Entry{}, false
	}
	return r.Runs[len(r.Runs)-1], true
}

// Find returns the index of the entry of the named run, or -1.
func (r Record) Find(run string) int {
	for i, e := range r.Runs {
		if e.Run == run {
			return i
		}
	}
	return -1
}

// Trim drops the oldest ended entries beyond MaxRecordRuns.
func (r *Record) Trim() {
	ended := 0
	for _, e := range r.Runs {
		if !e.Active() {
			ended++
		}
	}
	out := r.Runs[:0]
	for _, e := range r.Runs {
		if !e.Active() && ended > MaxRecordRuns {
			ended--
			continue
		}
		out = append(out, e)
	}
	r.Runs = out
}

// RecordFrom reads a record ConfigMap. A ConfigMap that is not a record of
// group/spec is an error naming what is wrong.
func RecordFrom(cm *corev1.ConfigMap) (Record, error) {
	var r Record
	raw, ok := cm.Data[RecordKey]
	if !ok {
		return r, fmt.Errorf("ConfigMap %s/%s has no %s", cm.Namespace, cm.Name, RecordKey)
	}
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return r, fmt.Errorf("ConfigMap %s/%s: %s is not a record: %v", cm.Namespace, cm.Name, RecordKey, err)
	}
	if RecordName(r.Group, r.Spec) != cm.Name {
		return r, fmt.Errorf("ConfigMap %s/%s holds the record of %s/%s, which belongs in %s", cm.Namespace, cm.Name, r.Group, r.Spec, RecordName(r.Group, r.Spec))
	}
	return r, nil
}

// ConfigMap is the record as the ConfigMap autox writes, owned by its
// Trigger (deleting the Trigger deletes the record). resourceVersion is
// the one read (empty to create).
func (r Record) ConfigMap(namespace, resourceVersion string) (*corev1.ConfigMap, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the record of %s/%s: %w", r.Group, r.Spec, err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:            RecordName(r.Group, r.Spec),
			Namespace:       namespace,
			ResourceVersion: resourceVersion,
			Labels: map[string]string{
				RecordLabel: "true", GroupLabel: r.Group, SpecLabel: r.Spec, PartOfLabel: "autox",
			},
		},
		Data: map[string]string{RecordKey: string(b)},
	}
	cm.OwnerReferences = r.Owner()
	return cm, nil
}

// Owner is the ownerReference to the record's Trigger that the record, and
// the group's history, carry: none when the Trigger's UID is not known.
func (r Record) Owner() []metav1.OwnerReference {
	if r.TriggerUID == "" {
		return nil
	}
	return []metav1.OwnerReference{{
		APIVersion: TriggersResource.GroupVersion().String(), Kind: "Trigger",
		Name: r.Trigger, UID: types.UID(r.TriggerUID),
	}}
}
