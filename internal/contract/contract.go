// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package contract is autox's wire contract, in one place: the labels and
// annotations autox reads and writes, the params of a group's Trigger,
// the event the watcher posts, the extensions the interceptor hands the
// TriggerTemplate, the run names, and the record autox keeps per group
// and spec. The watcher, the interceptor, autox generate, autox
// assert/report and the end-to-end tests import it; nothing else defines
// any of these.
package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Labels and annotations.
const (
	// GroupLabel and SpecLabel mark a group's Trigger, its record and its
	// PipelineRuns.
	GroupLabel = "autox.dev/group"
	SpecLabel  = "autox.dev/spec"
	// VersionLabel on a trigger object (a workload) is what launches
	// runs: a change of its value is a new version to test. On autox's own
	// objects (the install, the catalog, the runs and their results) it is
	// autox's version, AutoxVersion.
	VersionLabel = "app.kubernetes.io/version"
	// TestedVersionLabel on a run and its result ConfigMap is the version
	// it tests: the trigger object's VersionLabel when it was launched.
	TestedVersionLabel = "autox.dev/version"
	// TestedNameLabel on a run and its result ConfigMap is the trigger
	// object's name.
	TestedNameLabel = "autox.dev/name"
	// NameLabel on autox's own objects names the component (e.g.
	// autox-interceptor); PartOfLabel on them is "autox".
	NameLabel   = "app.kubernetes.io/name"
	PartOfLabel = "app.kubernetes.io/part-of"
	// RecordLabel marks the ConfigMaps that hold records (value "true").
	RecordLabel = "autox.dev/record"
	// DecidedAtAnnotation on a run is when the interceptor decided to
	// launch it (RFC 3339, nanoseconds).
	DecidedAtAnnotation = "autox.dev/decided-at"
	// SeqAnnotation on a run is its launch number in its group/spec's
	// record: runs of a group/spec are ordered by it.
	SeqAnnotation = "autox.dev/seq"
)

// AutoxVersion is autox's own version: the VersionLabel of every object
// autox installs (triggers/*.yaml), of its catalog (stepactions/, tasks/,
// pipelines/) and of the runs and result ConfigMaps it makes. A release
// tags its bundles v<AutoxVersion>.
const AutoxVersion = "0.1"

// Names of the objects autox installs.
const (
	// InterceptorName is the ClusterInterceptor's name, and the path it
	// serves at.
	InterceptorName = "autox"
	// DispatchTrigger is the one Trigger on the autox EventListener: it
	// asks the interceptor about every event, which names the group's
	// Trigger (Event.Trigger). The groups' Triggers are configuration the
	// watcher and the interceptor read; the EventListener does not select
	// them, so one event is one interceptor call however many groups
	// there are.
	DispatchTrigger = "autox"
	// EventIDHeader carries the watcher's id of an event (for logs).
	EventIDHeader = "X-Autox-Event-Id"
)

// GroupName is how the seed and autox assert/report name a group and
// spec, and the name of the group's Trigger: autox-<group>-<spec>.
func GroupName(group, spec string) string { return "autox-" + group + "-" + spec }

// hashLength is how many hex digits of the hash a run name carries: 40
// bits, so two launches of one group/spec collide with odds of about one
// in a trillion.
const hashLength = 10

// MaxGroupSpecLength is the longest group plus spec that keeps a run name
// within 63 characters: Tekton copies the name into label values
// (tekton.dev/pipelineRun), which may not be longer.
const MaxGroupSpecLength = 63 - len("autox---") - hashLength

// RunName is the name of launch seq of group/spec whose record has the UID
// recordUID: autox-<group>-<spec>-<10 hex of
// sha256("<group>/<spec>/<recordUID>/<seq>")>. A launch number is used
// once per record and a record's UID once per cluster, so a name is never
// reused, even after every run was deleted; and duplicates of one launch
// (the same decision sent twice) share it, so the second create fails.
func RunName(group, spec, recordUID string, seq int64) string {
	sum := sha256.Sum256([]byte(group + "/" + spec + "/" + recordUID + "/" + strconv.FormatInt(seq, 10)))
	return "autox-" + group + "-" + spec + "-" + hex.EncodeToString(sum[:])[:hashLength]
}

// Extensions are what a launching decision hands on, under the key
// "autox" ($(extensions.autox.runName) etc. in the TriggerBinding autox).
type Extensions struct {
	Group   string `json:"group"`
	Spec    string `json:"spec"`
	Version string `json:"version"`
	// Name and Namespace are the trigger object's.
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// RunName is RunName(group, spec, record UID, Seq).
	RunName string `json:"runName"`
	// Seq is the launch number, as text: the run's autox.dev/seq.
	Seq string `json:"seq"`
	// RunNamespace is where the run is made (the interceptor's
	// -runs-namespace): the records and cancels look there.
	RunNamespace string `json:"runNamespace"`
	// Experiment is the Trigger's experiment param as YAML text.
	Experiment string `json:"experiment"`
	// DecidedAt is when the launch was decided (RFC 3339, nanoseconds,
	// UTC): the run's annotation autox.dev/decided-at.
	DecidedAt string `json:"decidedAt"`
	// Pipeline is the Pipeline the run runs: Pipeline, or
	// WorkersPipeline when the experiment's load is spread over pods.
	Pipeline string `json:"pipeline"`
}

// The Pipelines a launch may run (the TriggerTemplate's
// $(tt.params.pipeline); the admission policy admits these two).
const (
	// Pipeline runs the experiment in one pod.
	Pipeline = "autox"
	// WorkersPipeline runs each worker's load in a pod of its own
	// (http.workers, grpc.workers above 1).
	WorkersPipeline = "autox-workers"
)

// FormatTime is how autox writes a time in annotations and records.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ParseTime reads FormatTime's text.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t, nil
}
