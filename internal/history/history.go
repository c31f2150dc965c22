// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package history keeps the results of a group and spec's last versions
// after their runs are gone: a ConfigMap autox-history-<group>.<spec> in
// the install namespace, next to the trigger's record, that only autox's
// interceptor writes (it copies each run's result there when the run
// ends, from the result ConfigMap the run owns) and that no PipelineRun
// owns, so pruning runs loses no baseline. It is owned by the group's
// Trigger, as the record is: removing the group removes its history.
//
// data["index.json"] lists the entries, oldest first, for people and
// tools; binaryData["<run>.json.gz"] holds each result, gzipped. It keeps
// the latest run of each of the last MaxVersions versions, within
// MaxBytes of compressed results, and always the newest version that
// passed (the regression baseline) while it is one of them.
package history

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/util/retry"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/inputfile"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/store"
)

const (
	// Label marks history ConfigMaps (value "true").
	Label = "autox.dev/history"
	// IndexKey holds the index in data.
	IndexKey = "index.json"
	// MaxVersions is how many versions a history keeps.
	MaxVersions = 10
	// MaxBytes bounds the compressed results of one history, well under a
	// ConfigMap's 1 MiB.
	MaxBytes = 512 << 10
	// MaxEntryBytes bounds one compressed result: a bigger one is cut as
	// the result ConfigMap would be (histograms first) until it fits.
	MaxEntryBytes = 128 << 10
)

// Name is the history's ConfigMap name.
func Name(group, spec string) string { return "autox-history-" + group + "." + spec }

// Entry is one run's result in a history.
type Entry struct {
	Version string `json:"version"`
	Run     string `json:"run"`
	RunUID  string `json:"runUID"`
	// Passed: the run succeeded and its result says it completed, every
	// SLO held and nothing regressed. Only such a run is a baseline.
	Passed  bool      `json:"passed"`
	EndTime time.Time `json:"endTime"`
	// Key is the result's key in binaryData; Bytes its size, gzipped.
	Key   string `json:"key"`
	Bytes int    `json:"bytes"`
	// Dropped names what was cut from the result to fit.
	Dropped []string `json:"dropped,omitempty"`
}

// Index is the data of index.json.
type Index struct {
	Group   string  `json:"group"`
	Spec    string  `json:"spec"`
	Entries []Entry `json:"entries"`
}

// History is a history as read.
type History struct {
	Index
	results map[string][]byte
	// ResourceVersion is what an update must name.
	ResourceVersion string
}

// From reads a history ConfigMap; one that is not autox's history of
// group/spec is an error that names what is wrong.
func From(cm *corev1.ConfigMap, group, spec string) (*History, error) {
	where := fmt.Sprintf("ConfigMap %s/%s", cm.Namespace, cm.Name)
	if cm.Labels[Label] != "true" || cm.Name != Name(group, spec) {
		return nil, fmt.Errorf("%s is not the history of %s/%s (label %s=true, name %s): only autox writes histories; delete it", where, group, spec, Label, Name(group, spec))
	}
	h := &History{results: cm.BinaryData, ResourceVersion: cm.ResourceVersion}
	if err := json.Unmarshal([]byte(cm.Data[IndexKey]), &h.Index); err != nil {
		return nil, fmt.Errorf("%s: %s is not a history index: %v; only autox writes histories: delete it", where, IndexKey, err)
	}
	if h.Group != group || h.Spec != spec {
		return nil, fmt.Errorf("%s holds the history of %s/%s, not %s/%s; delete it", where, h.Group, h.Spec, group, spec)
	}
	return h, nil
}

// Result decodes e's result.
func (h *History) Result(e Entry) (*result.Result, error) {
	gz, ok := h.results[e.Key]
	if !ok {
		return nil, fmt.Errorf("the history of %s/%s has no %s for run %s", h.Group, h.Spec, e.Key, e.Run)
	}
	return Decode(gz)
}

// Baseline is the newest entry that passed, other than run's.
func (h *History) Baseline(run string) (Entry, bool) {
	for i := len(h.Entries) - 1; i >= 0; i-- {
		if e := h.Entries[i]; e.Passed && e.Run != run {
			return e, true
		}
	}
	return Entry{}, false
}

// Has says whether the history holds the run with uid.
func (h *History) Has(runUID string) bool {
	return slices.ContainsFunc(h.Entries, func(e Entry) bool { return e.RunUID == runUID })
}

// Encode gzips r as JSON, cut to fit MaxEntryBytes.
func Encode(r *result.Result) (gz []byte, dropped []string, err error) {
	for limit := store.MaxDataBytes; limit >= 16<<10; limit /= 2 {
		data, cut, err := store.Fit(r, limit)
		if err != nil {
			return nil, nil, err
		}
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		w.Write(data)
		if err := w.Close(); err != nil {
			return nil, nil, err
		}
		if b.Len() <= MaxEntryBytes {
			return b.Bytes(), cut, nil
		}
	}
	return nil, nil, fmt.Errorf("the result does not fit %d bytes gzipped even cut to 16 KiB of JSON", MaxEntryBytes)
}

// Decode reads a result Encode wrote, reading at most
// inputfile.MaxResult bytes of JSON.
func Decode(gz []byte) (*result.Result, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("a history result is not gzip: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(zr, inputfile.MaxResult+1))
	if err != nil {
		return nil, fmt.Errorf("a history result: %w", err)
	}
	if len(data) > inputfile.MaxResult {
		return nil, fmt.Errorf("a history result is more than %d bytes unzipped", inputfile.MaxResult)
	}
	var r result.Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("a history result is not a result: %w", err)
	}
	if r.Version != result.Version {
		return nil, fmt.Errorf("a history result has version %q, this autox reads %q", r.Version, result.Version)
	}
	return &r, nil
}

// add puts e (its result gzipped in gz) in h, replacing an older run of
// its version, then trims h to MaxVersions and MaxBytes, keeping e and the
// newest entry that passed.
func (h *History) add(e Entry, gz []byte) {
	if h.results == nil {
		h.results = map[string][]byte{}
	}
	h.Entries = slices.DeleteFunc(h.Entries, func(o Entry) bool {
		if o.Version == e.Version || o.RunUID == e.RunUID {
			delete(h.results, o.Key)
			return true
		}
		return false
	})
	e.Bytes = len(gz)
	h.Entries = append(h.Entries, e)
	h.results[e.Key] = gz
	for {
		total := 0
		for _, o := range h.Entries {
			total += o.Bytes
		}
		if len(h.Entries) <= MaxVersions && total <= MaxBytes {
			return
		}
		keep, _ := h.Baseline("")
		i := slices.IndexFunc(h.Entries, func(o Entry) bool { return o.Run != keep.Run && o.Run != e.Run })
		if i < 0 {
			return
		}
		delete(h.results, h.Entries[i].Key)
		h.Entries = slices.Delete(h.Entries, i, i+1)
	}
}

func (h *History) configMap(namespace string, owner []metav1.OwnerReference) (*corev1.ConfigMap, error) {
	b, err := json.MarshalIndent(h.Index, "", "  ")
	if err != nil {
		return nil, err
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: Name(h.Group, h.Spec), Namespace: namespace, ResourceVersion: h.ResourceVersion,
			Labels: map[string]string{
				Label: "true", contract.GroupLabel: h.Group, contract.SpecLabel: h.Spec,
				contract.PartOfLabel: "autox", contract.VersionLabel: contract.AutoxVersion,
			},
			OwnerReferences: owner,
		},
		Data:       map[string]string{IndexKey: string(b)},
		BinaryData: h.results,
	}, nil
}

// Store reads and writes the histories of one namespace.
type Store struct {
	ConfigMaps corev1client.ConfigMapsGetter
	Namespace  string
}

// ErrNone is returned by Load when the group has no history yet.
var ErrNone = errors.New("no history")

// Load reads the history of group/spec; ErrNone when there is none.
func (s Store) Load(ctx context.Context, group, spec string) (*History, error) {
	cm, err := s.ConfigMaps.ConfigMaps(s.Namespace).Get(ctx, Name(group, spec), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w of %s/%s in %s", ErrNone, group, spec, s.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the history of %s/%s: %w", group, spec, err)
	}
	return From(cm, group, spec)
}

// Keep adds e with result r to the history of group/spec, made when there
// is none (owned by owner), retried on conflicts. It is idempotent: a run
// already kept is left as it is.
func (s Store) Keep(ctx context.Context, group, spec string, owner []metav1.OwnerReference, e Entry, r *result.Result) error {
	gz, dropped, err := Encode(r)
	if err != nil {
		return fmt.Errorf("keeping %s in the history of %s/%s: %w", e.Run, group, spec, err)
	}
	e.Key, e.Dropped = e.Run+".json.gz", dropped
	cms := s.ConfigMaps.ConfigMaps(s.Namespace)
	return retry.OnError(retry.DefaultRetry, func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }, func() error {
		h, err := s.Load(ctx, group, spec)
		// Made when there was none (not when the one read names no
		// resourceVersion: only an API server sets it).
		none := errors.Is(err, ErrNone)
		switch {
		case none:
			h = &History{Index: Index{Group: group, Spec: spec}}
		case err != nil:
			return err
		}
		if h.Has(e.RunUID) {
			return nil
		}
		h.add(e, gz)
		cm, err := h.configMap(s.Namespace, owner)
		if err != nil {
			return err
		}
		if none {
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		} else {
			_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		}
		return err
	})
}
