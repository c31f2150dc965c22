// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/autox-tekton/autox/internal/contract"
)

// StoredRecord is a record and the ConfigMap's identity it was read with.
type StoredRecord struct {
	contract.Record
	// UID is the ConfigMap's: part of every run name.
	UID string
	// ResourceVersion is what an update must name (optimistic concurrency).
	ResourceVersion string
}

// Records reads and writes the records of one namespace.
type Records interface {
	// Cached returns the record from the cache; ok is false when there is
	// none.
	Cached(group, spec string) (r StoredRecord, ok bool, err error)
	// Live reads the record from the API server (after a conflict).
	Live(ctx context.Context, group, spec string) (r StoredRecord, ok bool, err error)
	// Create makes an empty record for g; an AlreadyExists error means
	// another writer was first.
	Create(ctx context.Context, g contract.Group) (StoredRecord, error)
	// Update writes r if the ConfigMap is still at r.ResourceVersion; a
	// Conflict error means another writer was first.
	Update(ctx context.Context, r StoredRecord) (StoredRecord, error)
}

// RecordStore keeps the records as ConfigMaps in Namespace, read through
// an informer on the ConfigMaps labelled autox.dev/record.
type RecordStore struct {
	Client    kubernetes.Interface
	Namespace string
	informer  cache.SharedIndexInformer
	lister    listerscorev1.ConfigMapNamespaceLister
}

var _ Records = (*RecordStore)(nil)

// NewRecordStore makes the store; Run it, then wait for HasSynced.
func NewRecordStore(client kubernetes.Interface, namespace string) *RecordStore {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = contract.RecordLabel + "=true" }))
	cms := factory.Core().V1().ConfigMaps()
	return &RecordStore{Client: client, Namespace: namespace, informer: cms.Informer(), lister: cms.Lister().ConfigMaps(namespace)}
}

// Informer is the store's informer, for event handlers.
func (s *RecordStore) Informer() cache.SharedIndexInformer { return s.informer }

// Run fills and follows the cache until ctx ends.
func (s *RecordStore) Run(ctx context.Context) { s.informer.Run(ctx.Done()) }

// HasSynced is true once the first list is in.
func (s *RecordStore) HasSynced() bool { return s.informer.HasSynced() }

func stored(cm *corev1.ConfigMap) (StoredRecord, error) {
	r, err := contract.RecordFrom(cm)
	if err != nil {
		return StoredRecord{}, fmt.Errorf("%w; only autox writes records: delete it to start the group afresh", err)
	}
	return StoredRecord{Record: r, UID: string(cm.UID), ResourceVersion: cm.ResourceVersion}, nil
}

// Cached implements Records.
func (s *RecordStore) Cached(group, spec string) (StoredRecord, bool, error) {
	cm, err := s.lister.Get(contract.RecordName(group, spec))
	if apierrors.IsNotFound(err) {
		return StoredRecord{}, false, nil
	}
	if err != nil {
		return StoredRecord{}, false, err
	}
	r, err := stored(cm)
	return r, err == nil, err
}

// Live implements Records.
func (s *RecordStore) Live(ctx context.Context, group, spec string) (StoredRecord, bool, error) {
	cm, err := s.Client.CoreV1().ConfigMaps(s.Namespace).Get(ctx, contract.RecordName(group, spec), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return StoredRecord{}, false, nil
	}
	if err != nil {
		return StoredRecord{}, false, fmt.Errorf("reading the record of %s/%s: %w", group, spec, err)
	}
	r, err := stored(cm)
	return r, err == nil, err
}

// Create implements Records.
func (s *RecordStore) Create(ctx context.Context, g contract.Group) (StoredRecord, error) {
	rec := contract.Record{Group: g.Group, Spec: g.Spec, Trigger: g.TriggerName, TriggerUID: g.TriggerUID}
	cm, err := rec.ConfigMap(s.Namespace, "")
	if err != nil {
		return StoredRecord{}, err
	}
	made, err := s.Client.CoreV1().ConfigMaps(s.Namespace).Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		return StoredRecord{}, err
	}
	return stored(made)
}

// Update implements Records.
func (s *RecordStore) Update(ctx context.Context, r StoredRecord) (StoredRecord, error) {
	cm, err := r.Record.ConfigMap(s.Namespace, r.ResourceVersion)
	if err != nil {
		return StoredRecord{}, err
	}
	made, err := s.Client.CoreV1().ConfigMaps(s.Namespace).Update(ctx, cm, metav1.UpdateOptions{})
	if err != nil {
		return StoredRecord{}, err
	}
	return stored(made)
}

// Keys are the group/spec keys of the records in the cache.
func (s *RecordStore) Keys() []string {
	var out []string
	for _, o := range s.informer.GetStore().List() {
		if k := recordKey(o); k != "/" {
			out = append(out, k)
		}
	}
	return out
}
