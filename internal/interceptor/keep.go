// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/history"
	"github.com/autox-tekton/autox/internal/inputfile"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/store"
)

// Outcomes of keeping a run's result, the label of
// autox_history_keeps_total.
const (
	keptInHistory = "kept"
	keptNoResult  = "no_result"
	keptRefused   = "refused"
)

// keep copies to the group's history the result of each run of rec that
// succeeded or failed and was not looked at yet (contract.Entry.ToKeep),
// then notes in the record what became of each (Entry.Kept), so every
// result is read once and a run pruned afterwards takes no baseline with
// it. The record is the trusted fact: the result counts only when the run
// the record names (by UID) owns it, and its version is the record's. A
// result that cannot be read for now leaves its entry to the next
// reconcile; the history is idempotent by run UID, so a retry after the
// record's write lost a race keeps nothing twice. Without Results or
// History it does nothing.
func (r *Reconciler) keep(ctx context.Context, key string, rec StoredRecord) error {
	if r.Results == nil || r.History == nil {
		return nil
	}
	next := rec
	next.Runs = append([]contract.Entry(nil), rec.Runs...)
	changed := false
	var failed []error
	for i := range next.Runs {
		e := &next.Runs[i]
		if !e.ToKeep() {
			continue
		}
		kept, err := r.keepRun(ctx, key, rec.Record, *e)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		e.Kept, changed = kept, true
	}
	if changed {
		if _, err := r.Records.Update(ctx, next); err != nil {
			if apierrors.IsConflict(err) {
				r.Metrics.Conflicts.Inc()
			}
			failed = append(failed, fmt.Errorf("noting the kept results in the record of %s: %w", key, err))
		}
	}
	return errors.Join(failed...)
}

// keepRun keeps the result of the run of e in the history and says what
// Entry.Kept becomes; an error means "not now, try again".
func (r *Reconciler) keepRun(ctx context.Context, key string, rec contract.Record, e contract.Entry) (string, error) {
	cm, err := r.Results.ConfigMaps(r.RunsNamespace).Get(ctx, e.Run, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		r.Metrics.Keeps.WithLabelValues(keptNoResult).Inc()
		if e.State == contract.Failed {
			return "no result: the run failed before its assess step stored one", nil
		}
		return fmt.Sprintf("no result: ConfigMap %s/%s is not there (the run stored none, or it was deleted)", r.RunsNamespace, e.Run), nil
	case err != nil:
		return "", fmt.Errorf("reading the result of %s to keep it in the history: %w", e.Run, err)
	}
	// Whoever may create ConfigMaps in the runs' namespace could write
	// one by the run's name: a forged result must never be a baseline.
	if err := store.CheckOwner(cm, store.Owner{Kind: store.KindPipelineRun, Name: e.Run, UID: e.RunUID}); err != nil {
		r.Metrics.Keeps.WithLabelValues(keptRefused).Inc()
		r.Log.Warn("not keeping the result of "+e.Run+" in the history: "+err.Error(), "record", key, "run", e.Run, "version", e.Version)
		return "not kept: " + err.Error(), nil
	}
	res, err := parseResult(cm)
	if err == nil {
		// history.Keep fails the same way on every try for a result that
		// cannot be made small enough: say so once rather than retry.
		_, _, err = history.Encode(res)
	}
	if err != nil {
		r.Metrics.Keeps.WithLabelValues(keptRefused).Inc()
		r.Log.Warn("not keeping the result of "+e.Run+" in the history: "+err.Error(), "record", key, "run", e.Run, "version", e.Version)
		return "not kept: " + err.Error(), nil
	}
	entry := history.Entry{
		Version: e.Version, Run: e.Run, RunUID: e.RunUID,
		Passed:  e.State == contract.Succeeded && res.Completed && res.SLOsSatisfied && !res.Regressed,
		EndTime: res.EndTime,
	}
	if err := r.History.Keep(ctx, rec.Group, rec.Spec, rec.Owner(), entry, res); err != nil {
		return "", err
	}
	r.Metrics.Keeps.WithLabelValues(keptInHistory).Inc()
	r.Log.Info(fmt.Sprintf("kept the result of %s (version %s, passed %t) in the history %s/%s", e.Run, e.Version, entry.Passed, r.History.Namespace, history.Name(rec.Group, rec.Spec)),
		"record", key, "run", e.Run, "version", e.Version)
	return contract.KeptInHistory, nil
}

// parseResult reads the result a run's assess step stored in cm.
func parseResult(cm *corev1.ConfigMap) (*result.Result, error) {
	where := fmt.Sprintf("ConfigMap %s/%s", cm.Namespace, cm.Name)
	data, ok := cm.Data[store.DataKey]
	switch {
	case !ok:
		return nil, fmt.Errorf("%s has no key %s", where, store.DataKey)
	case len(data) > inputfile.MaxResult:
		return nil, fmt.Errorf("%s: %s is %d bytes, more than a result's %d", where, store.DataKey, len(data), inputfile.MaxResult)
	}
	var res result.Result
	if err := json.Unmarshal([]byte(data), &res); err != nil {
		return nil, fmt.Errorf("%s: %s is not a result: %v", where, store.DataKey, err)
	}
	if res.Version != result.Version {
		return nil, fmt.Errorf("%s: %s has version %q, this autox reads %q", where, store.DataKey, res.Version, result.Version)
	}
	return &res, nil
}
