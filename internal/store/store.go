// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package store keeps an experiment's result in the cluster after its pod
// is gone: a ConfigMap named after the run (the PipelineRun, or a bare
// TaskRun), owned by it so that Kubernetes deletes it with the run, and
// labelled as the run is: the experiment's group, spec, the version under
// test and the tested object's name (autox.dev/*), so that
// `kubectl get configmaps -l autox.dev/group=httpbin` finds it, and
// app.kubernetes.io/part-of and app.kubernetes.io/version, autox's own.
//
// The ConfigMap holds result.json under the key DataKey. A ConfigMap holds
// at most 1 MiB (MaxDataBytes); a bigger result is cut, largest and least
// needed parts first: each endpoint's full HDR histograms (latency, and
// at a fixed rate service time), then
// its histogram bars, then its error messages. Metrics, SLO verdicts and
// the experiment always stay. The annotation DroppedAnnotation names what
// was cut.
package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/result"
)

// Labels and keys of a result ConfigMap.
const (
	LabelGroup = contract.GroupLabel
	LabelSpec  = contract.SpecLabel
	// LabelVersion is the version under test, LabelName the tested
	// object's name.
	LabelVersion = contract.TestedVersionLabel
	LabelName    = contract.TestedNameLabel
	LabelPartOf  = contract.PartOfLabel
	// PartOf is LabelPartOf's value on every result.
	PartOf = "autox"
	// LabelAutoxVersion is autox's own version (AutoxVersion) on every
	// result, as on every object autox makes.
	LabelAutoxVersion = contract.VersionLabel
	AutoxVersion      = contract.AutoxVersion
	// DataKey holds result.json.
	DataKey = "result.json"
	// DroppedAnnotation lists, comma-separated, what was cut to fit.
	DroppedAnnotation = "autox.dev/dropped"
	// MaxDataBytes is what Kubernetes allows in a ConfigMap's data, keys
	// included (corev1.MaxSecretSize, which the API server applies to
	// ConfigMaps too).
	MaxDataBytes = corev1.MaxSecretSize
)

// Owner is the Tekton run the ConfigMap belongs to.
type Owner struct {
	// Kind is PipelineRun or TaskRun (apiVersion tekton.dev/v1).
	Kind string
	Name string
	UID  string
}

// Owner kinds.
const (
	KindPipelineRun = "PipelineRun"
	KindTaskRun     = "TaskRun"
)

// Target says where and under which labels a result is kept.
type Target struct {
	Namespace string
	// Owner names the ConfigMap (its name is the run's) and owns it.
	Owner Owner
	// Group, Spec, Version (under test) and Name (of the tested object)
	// become labels; "" leaves a label out.
	Group, Spec, Version, Name string
}

// Validate checks the target before any work is done: each problem names
// the flag that set it.
func (t Target) Validate() error {
	var problems []badinput.FieldError
	add := func(path, msg string) { problems = append(problems, badinput.FieldError{Path: path, Message: msg}) }
	if t.Namespace == "" {
		add("-namespace", "missing; name the namespace of the run")
	}
	if t.Owner.Kind != KindPipelineRun && t.Owner.Kind != KindTaskRun {
		add("owner kind", fmt.Sprintf("%q is not %s or %s", t.Owner.Kind, KindPipelineRun, KindTaskRun))
	}
	for _, msg := range validation.IsDNS1123Subdomain(t.Owner.Name) {
		add("-"+strings.ToLower(t.Owner.Kind), fmt.Sprintf("%q is not a ConfigMap name: %s", t.Owner.Name, msg))
	}
	if t.Owner.UID == "" {
		add("-"+strings.ToLower(t.Owner.Kind)+"-uid", "missing; pass the run's uid ($(context."+lowerFirst(t.Owner.Kind)+".uid)) so that the result is deleted with the run")
	}
	for _, l := range []struct{ flag, value string }{{"-group", t.Group}, {"-spec", t.Spec}, {"-version", t.Version}, {"-name", t.Name}} {
		for _, msg := range validation.IsValidLabelValue(l.value) {
			add(l.flag, fmt.Sprintf("%q is not a label value: %s", l.value, msg))
		}
	}
	if len(problems) > 0 {
		return &badinput.Error{Problems: problems}
	}
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// Store writes results as ConfigMaps.
type Store struct {
	// ConfigMaps is the client; a step uses its pod's ServiceAccount,
	// which needs get, create and update on configmaps.
	ConfigMaps corev1client.ConfigMapsGetter
}

// Saved says what was stored.
type Saved struct {
	// Name of the ConfigMap.
	Name string
	// Bytes of result.json as stored.
	Bytes int
	// Dropped names the parts cut to fit, in the order they were cut.
	Dropped []string
}

// Save creates the ConfigMap for t with r, or replaces its content when it
// exists (a retried step).
func (s Store) Save(ctx context.Context, t Target, r *result.Result) (Saved, error) {
	if err := t.Validate(); err != nil {
		return Saved{}, err
	}
	data, dropped, err := Fit(r, MaxDataBytes-len(DataKey))
	if err != nil {
		return Saved{}, err
	}
	want := t.configMap(data, dropped)
	saved := Saved{Name: want.Name, Bytes: len(data), Dropped: dropped}
	cms := s.ConfigMaps.ConfigMaps(t.Namespace)
	_, err = cms.Create(ctx, want, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return saved, wrap(t, "creating", err)
	}
	have, err := cms.Get(ctx, want.Name, metav1.GetOptions{})
	if err != nil {
		return saved, wrap(t, "reading the existing", err)
	}
	have.Labels, have.Annotations, have.OwnerReferences = want.Labels, want.Annotations, want.OwnerReferences
	have.Data, have.BinaryData = want.Data, nil
	_, err = cms.Update(ctx, have, metav1.UpdateOptions{})
	return saved, wrap(t, "updating", err)
}

func wrap(t Target, doing string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s ConfigMap %s/%s for the result: %w", doing, t.Namespace, t.Owner.Name, err)
}

func (t Target) configMap(data []byte, dropped []string) *corev1.ConfigMap {
	labels := map[string]string{LabelPartOf: PartOf, LabelAutoxVersion: AutoxVersion}
	for k, v := range map[string]string{LabelGroup: t.Group, LabelSpec: t.Spec, LabelVersion: t.Version, LabelName: t.Name} {
		if v != "" {
			labels[k] = v
		}
	}
	var annotations map[string]string
	if len(dropped) > 0 {
		annotations = map[string]string{DroppedAnnotation: strings.Join(dropped, ",")}
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:        t.Owner.Name,
			Namespace:   t.Namespace,
			Labels:      labels,
			Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "tekton.dev/v1",
				Kind:       t.Owner.Kind,
				Name:       t.Owner.Name,
				UID:        types.UID(t.Owner.UID),
			}},
		},
		Data: map[string]string{DataKey: string(data)},
	}
}

// CheckOwner says whether cm is the result of run o: a result is trusted
// only when one of its ownerReferences has o's kind and uid, as Save
// writes it, since whoever may create ConfigMaps in the namespace could
// write one by the run's name. The error names the ConfigMap, the run, the
// uids and the fix.
func CheckOwner(cm *corev1.ConfigMap, o Owner) error {
	var uids []string
	for _, ref := range cm.OwnerReferences {
		if ref.Kind == o.Kind && o.UID != "" && string(ref.UID) == o.UID {
			return nil
		}
		uids = append(uids, orNone(string(ref.UID)))
	}
	owner := "it has no owner"
	if len(uids) > 0 {
		owner = "owner uid " + strings.Join(uids, ", ")
	}
	return fmt.Errorf("result ConfigMap %s/%s is not owned by %s %s/%s (%s, run uid %s); it was not written by this run: delete it",
		cm.Namespace, cm.Name, o.Kind, cm.Namespace, o.Name, owner, orNone(o.UID))
}

func orNone(uid string) string {
	if uid == "" {
		return "none"
	}
	return uid
}

// What Fit cuts, in order. DroppedLatency cuts serviceTime with latency:
// both are HDR histograms.
const (
	DroppedLatency   = "endpoints[].latency"
	DroppedHistogram = "endpoints[].histogram"
	DroppedErrors    = "endpoints[].errors"
)

// Fit encodes r as result.json in at most limit bytes, cutting what it
// must (see the package doc); r itself is not changed.
func Fit(r *result.Result, limit int) ([]byte, []string, error) {
	c := *r
	c.Endpoints = append([]result.Endpoint(nil), r.Endpoints...)
	var dropped []string
	cuts := []struct {
		name string
		cut  func(*result.Endpoint)
	}{
		{DroppedLatency, func(e *result.Endpoint) { e.Latency, e.ServiceTime, e.LatencyBlocks = "", "", nil }},
		{DroppedHistogram, func(e *result.Endpoint) { e.Histogram = nil }},
		{DroppedErrors, func(e *result.Endpoint) { e.Errors = nil }},
	}
	for i := 0; ; i++ {
		b, err := json.Marshal(&c)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding the result: %w", err)
		}
		if len(b) <= limit {
			return b, dropped, nil
		}
		if i == len(cuts) {
			return nil, dropped, fmt.Errorf("the result is %d bytes even without %s; a ConfigMap holds %d: shorten the experiment (its payloads are part of it) or the metric names", len(b), strings.Join(dropped, ", "), limit)
		}
		for j := range c.Endpoints {
			cuts[i].cut(&c.Endpoints[j])
		}
		dropped = append(dropped, cuts[i].name)
	}
}
