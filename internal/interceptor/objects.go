// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/metadata"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/decide"
)

// Objects reads trigger objects as the cluster holds them (metadata only).
type Objects interface {
	// Cached returns the object from the interceptor's own cache; synced
	// is false when the cache does not follow the object (yet).
	Cached(o contract.Object) (obj decide.Object, synced bool)
	// Live reads the object from the API server: when the cache and the
	// event disagree, one GET settles it (the cache may be a moment late).
	Live(ctx context.Context, o contract.Object) (decide.Object, error)
}

// ObjectCache is the cached half of Objects (internal/objects.Cache).
type ObjectCache interface {
	Get(o contract.Object) (decide.Object, bool)
}

// MetadataObjects reads through a metadata-only client, with a cache in
// front when one is given.
type MetadataObjects struct {
	Client metadata.Interface
	Cache  ObjectCache
}

var _ Objects = MetadataObjects{}

// Cached implements Objects.
func (m MetadataObjects) Cached(o contract.Object) (decide.Object, bool) {
	if m.Cache == nil {
		return decide.Object{}, false
	}
	return m.Cache.Get(o)
}

// Live implements Objects.
func (m MetadataObjects) Live(ctx context.Context, o contract.Object) (decide.Object, error) {
	meta, err := m.Client.Resource(o.GVR()).Namespace(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return decide.Object{}, nil
	}
	if err != nil {
		return decide.Object{}, fmt.Errorf("reading %s: %w", o, err)
	}
	if meta.DeletionTimestamp != nil {
		// Being deleted: as good as gone for testing.
		return decide.Object{}, nil
	}
	return decide.Object{Exists: true, UID: string(meta.UID), Version: meta.Labels[contract.VersionLabel]}, nil
}
