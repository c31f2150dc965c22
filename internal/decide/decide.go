// Package decide is the trigger decision, with no I/O: given what happened
// to a trigger object and the PipelineRuns of one autox group and spec, it
// says whether to launch a run, under which name, why, and which running
// runs to cancel. The cluster is the state: nothing here remembers
// anything between calls.
package decide

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Labels that autox reads on trigger objects and sets on PipelineRuns.
const (
	GroupLabel   = "autox.dev/group"
	SpecLabel    = "autox.dev/spec"
	VersionLabel = "app.kubernetes.io/version"
	NameLabel    = "app.kubernetes.io/name"
	// DecidedAtAnnotation holds when the interceptor decided to launch the
	// run (RFC 3339, nanoseconds). Runs are ordered by it: a
	// creationTimestamp has whole seconds, and two versions labelled
	// within one second must still have a latest.
	DecidedAtAnnotation = "autox.dev/decided-at"
)

// Run is what the decision needs of one PipelineRun.
type Run struct {
	Namespace string
	Name      string
	UID       string
	// Version is the run's app.kubernetes.io/version label.
	Version string
	// Created is the run's metadata.creationTimestamp.
	Created time.Time
	// Done is true once the run has finished (its Succeeded condition is
	// True or False).
	Done bool
	// CancelRequested is true when spec.status already asks the run to stop
	// (Cancelled, CancelledRunFinally, StoppedRunFinally): it is not
	// cancelled again.
	CancelRequested bool
}

// running says whether the run still needs a cancel to stop.
func (r Run) running() bool { return !r.Done && !r.CancelRequested }

// Event is what happened to the trigger object.
type Event struct {
	// Deleted is true when the object was deleted.
	Deleted bool
	// Version is the object's version label; "" when it has none (an empty
	// value counts as none: there is no version to test).
	Version string
	// OldVersion is the old object's version label when the event carries
	// the old object; it only changes the wording ("removed" rather than
	// "has no").
	OldVersion string
}

// Decision is the outcome for one event.
type Decision struct {
	// Launch is true when a run must be created.
	Launch bool
	// RunName is the deterministic name of that run (when Launch).
	RunName string
	// Reason says why, for people reading the interceptor's log and the
	// EventListener's.
	Reason string
	// Cancel are the running runs that the event supersedes, oldest first.
	Cancel []Run
}

// Decide returns the decision for ev on the runs of group/spec (in any
// order). The rules (issue 9, DESIGN.md "Latest version wins"):
//   - object deleted, or without a version label: cancel every running run,
//     launch nothing;
//   - version label v and the latest run tested v: launch nothing; cancel
//     the running runs of other versions (a cancel that failed earlier is retried on the
//     next event, which the watcher's re-list guarantees);
//   - version label v, no run yet or the latest run tested another version:
//     launch, and cancel every running run.
//
// Any other change of the object (image, replicas, other labels, status)
// arrives as an event whose version is that of the latest run, so it
// launches nothing.
func Decide(group, spec string, ev Event, runs []Run) Decision {
	what := group + "/" + spec
	switch {
	case ev.Deleted:
		return stop(what, "the object was deleted", runs)
	case ev.Version == "" && ev.OldVersion != "":
		return stop(what, fmt.Sprintf("the version label %s was removed (it was %q)", VersionLabel, ev.OldVersion), runs)
	case ev.Version == "":
		return stop(what, fmt.Sprintf("the object has no version label %s", VersionLabel), runs)
	}
	latest, ok := Latest(runs)
	if ok && latest.Version == ev.Version {
		d := Decision{Cancel: runningExcept(runs, ev.Version)}
		d.Reason = fmt.Sprintf("version %q of %s is already tested by the latest run %s; nothing to launch", ev.Version, what, latest.Name) + cancelling(d.Cancel)
		return d
	}
	d := Decision{Launch: true, Cancel: runningExcept(runs, "")}
	if ok {
		d.RunName = RunName(group, spec, ev.Version, latest.UID)
		d.Reason = fmt.Sprintf("version %q of %s is new: the latest run %s tested %q; launching %s", ev.Version, what, latest.Name, latest.Version, d.RunName)
	} else {
		d.RunName = RunName(group, spec, ev.Version, "")
		d.Reason = fmt.Sprintf("version %q of %s is new: no run yet; launching %s", ev.Version, what, d.RunName)
	}
	d.Reason += cancelling(d.Cancel)
	return d
}

// stop is the decision for an object that has no version to test.
func stop(what, why string, runs []Run) Decision {
	d := Decision{Cancel: runningExcept(runs, "")}
	if len(d.Cancel) == 0 {
		d.Reason = fmt.Sprintf("%s; no run of %s is running; nothing to launch", why, what)
		return d
	}
	d.Reason = fmt.Sprintf("%s; nothing to launch", why) + cancelling(d.Cancel)
	return d
}

func cancelling(runs []Run) string {
	if len(runs) == 0 {
		return ""
	}
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Name
	}
	return "; cancelling " + strings.Join(names, ", ")
}

// runningExcept returns the running runs whose version is not keep
// ("" keeps none), oldest first.
func runningExcept(runs []Run, keep string) []Run {
	var out []Run
	for _, r := range runs {
		if r.running() && (keep == "" || r.Version != keep) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return before(out[i], out[j]) })
	return out
}

// before orders runs by creation, then by name, so that "latest" is well
// defined even when two runs were created in the same second (the
// API server's timestamps have second resolution).
func before(a, b Run) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.Name < b.Name
}

// Latest returns the run with the newest creation time (ties: the greatest
// name).
func Latest(runs []Run) (Run, bool) {
	if len(runs) == 0 {
		return Run{}, false
	}
	latest := runs[0]
	for _, r := range runs[1:] {
		if before(latest, r) {
			latest = r
		}
	}
	return latest, true
}

// Relevant returns the runs that Decide looks at: the latest one and the
// running ones (in any order). Decide on Relevant(runs) is Decide on runs,
// so a cache may keep only these per group/spec.
func Relevant(runs []Run) []Run {
	latest, ok := Latest(runs)
	if !ok {
		return nil
	}
	out := []Run{latest}
	for _, r := range runs {
		if r.running() && !(r.Namespace == latest.Namespace && r.Name == latest.Name) {
			out = append(out, r)
		}
	}
	return out
}

// hashLength is how many hex digits of the hash a run name carries: 40
// bits, so two different launches of one group/spec collide with odds of
// about one in a trillion.
const hashLength = 10

// RunName is the PipelineRun name for testing version of group/spec after
// the run whose UID is latestUID ("" for the first run):
// autox-<group>-<spec>-<10 hex of sha256("<group>/<spec>/<version>/<uid>")>.
//
// Two events for one version that race (or the same event sent twice)
// see the same latest run and so produce the same name: the second create
// fails with AlreadyExists and one run is made. The UID makes a revert
// (1.0.0 -> 2.0.0 -> 1.0.0) a new name, so 1.0.0 is tested again.
func RunName(group, spec, version, latestUID string) string {
	sum := sha256.Sum256([]byte(group + "/" + spec + "/" + version + "/" + latestUID))
	return "autox-" + group + "-" + spec + "-" + hex.EncodeToString(sum[:])[:hashLength]
}

// MaxGroupSpecLength is the longest group plus spec that keeps a run name
// within 63 characters: Tekton copies the name into label values
// (tekton.dev/pipelineRun), which may not be longer.
const MaxGroupSpecLength = 63 - len("autox---") - hashLength
