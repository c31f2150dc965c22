// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package objects is a metadata-only cache of trigger objects: the
// objects the groups' Triggers name (contract.Object). It runs one
// metadata informer per resource and namespace, not per object, starts
// and stops them as the set of targets changes (SetTargets), and asks
// first whether the resource is served and may be watched, so that a
// missing CRD or grant is one clear problem per target and not an
// informer retrying forever. It keeps of each object only its name,
// namespace, uid, resourceVersion and labels: a Deployment costs a few
// hundred bytes, whatever its spec.
//
// The watcher uses it to see version-label changes; the interceptor uses
// it to read an object's real version (Get). It knows nothing of either:
// callers subscribe to changes (Subscribe) and read the cached state.
package objects

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/decide"
)

// Resource is what one informer watches: a resource in a namespace.
type Resource struct {
	GVR       schema.GroupVersionResource
	Namespace string
}

func (r Resource) String() string {
	return fmt.Sprintf("%s in namespace %s", groupResource(r.GVR), r.Namespace)
}

// Key names one object of a Resource.
type Key struct {
	Resource
	Name string
}

// KeyOf is the key of a trigger object.
func KeyOf(o contract.Object) Key {
	return Key{Resource: Resource{GVR: o.GVR(), Namespace: o.Namespace}, Name: o.Name}
}

func (k Key) String() string {
	return fmt.Sprintf("%s %s/%s", groupResource(k.GVR), k.Namespace, k.Name)
}

// Meta is an object as the cache keeps it.
type Meta struct {
	// APIVersion and Kind are the resource's (from discovery).
	APIVersion, Kind string
	Name, Namespace  string
	UID              string
	ResourceVersion  string
	Labels           map[string]string
}

// Object is the object for the decision: it exists, with its uid and
// version label.
func (m Meta) Object() decide.Object {
	return decide.Object{Exists: true, UID: m.UID, Version: m.Labels[contract.VersionLabel]}
}

// ObjectOf is m's Object, or a missing object when m is nil.
func ObjectOf(m *Meta) decide.Object {
	if m == nil {
		return decide.Object{}
	}
	return m.Object()
}

// ChangeType says what happened to an object.
type ChangeType string

const (
	// Added: listed (on start or by a re-list that found it new) or created.
	Added ChangeType = "added"
	// Updated: its metadata changed (a spec or status change moves its
	// resourceVersion too).
	Updated ChangeType = "updated"
	// Deleted: deleted, or gone at a re-list.
	Deleted ChangeType = "deleted"
	// Relisted: a re-list found it unchanged (Old and New are equal).
	Relisted ChangeType = "relisted"
	// Synced: the informer of Key.Resource has delivered its first list
	// (Key.Name is ""): from now on Get answers for its objects, and an
	// object not in it does not exist.
	Synced ChangeType = "synced"
)

// Change is one change of a target object.
type Change struct {
	Type ChangeType
	Key  Key
	// Old and New are the object before and after; nil when absent (Old
	// of an add, New of a deletion, both for Synced).
	Old, New *Meta
}

// Cache holds the metadata of the target objects. Its zero value is not
// usable: set Client and Access. Its methods may be called from any
// goroutine.
type Cache struct {
	// Client reads metadata (PartialObjectMetadata) only.
	Client metadata.Interface
	// Access is asked before an informer starts.
	Access Access
	// Log gets one line per informer started or stopped.
	Log *slog.Logger

	mu        sync.Mutex
	informers map[Resource]*informer
	subs      []func(Change)
}

type informer struct {
	apiVersion, kind string
	inf              cache.SharedIndexInformer
	reg              cache.ResourceEventHandlerRegistration
	names            map[string]bool
	stop             context.CancelFunc
	done             chan struct{}
}

// Subscribe has f called for every change of a target object, from the
// informers' goroutines: f must not block (hand the change to a queue).
// Changes of objects that are not targets are not reported.
func (c *Cache) Subscribe(f func(Change)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = append(c.subs, f)
}

// SetTargets makes the informers match targets: it starts one per
// resource and namespace newly named (after asking Access), stops the
// ones no target names any more, and returns the problem of each target
// it cannot watch (asked again on the next call, so call it again later:
// a grant or a CRD may come). Informers run until ctx ends, a later call
// drops them, or Stop. It reports no change for objects already cached
// that become targets: read them with Get.
func (c *Cache) SetTargets(ctx context.Context, targets []contract.Object) map[contract.Object]error {
	want := map[Resource]map[string]bool{}
	for _, t := range targets {
		k := KeyOf(t)
		if want[k.Resource] == nil {
			want[k.Resource] = map[string]bool{}
		}
		want[k.Resource][k.Name] = true
	}
	c.mu.Lock()
	if c.informers == nil {
		c.informers = map[Resource]*informer{}
	}
	var stopped []*informer
	for r, in := range c.informers {
		if want[r] == nil {
			stopped = append(stopped, in)
			delete(c.informers, r)
			c.Log.Info(fmt.Sprintf("stopped watching %s: no Trigger names it", r))
		}
	}
	var fresh []Resource
	for r, names := range want {
		if in, ok := c.informers[r]; ok {
			in.names = names
		} else {
			fresh = append(fresh, r)
		}
	}
	c.mu.Unlock()
	for _, in := range stopped {
		in.stop()
		<-in.done
	}
	slices.SortFunc(fresh, func(a, b Resource) int { return strings.Compare(a.String(), b.String()) })
	refused := map[Resource]error{}
	for _, r := range fresh {
		// Asked without the lock: it is a round trip to the API server.
		kind, err := c.Access.CanWatch(ctx, r.GVR, r.Namespace)
		if err != nil {
			refused[r] = err
			continue
		}
		c.start(ctx, r, kind, want[r])
	}
	problems := map[contract.Object]error{}
	for _, t := range targets {
		if err, ok := refused[KeyOf(t).Resource]; ok {
			problems[t] = err
		}
	}
	return problems
}

// Stop stops every informer and waits for them.
func (c *Cache) Stop() {
	c.mu.Lock()
	all := slices.Collect(maps.Values(c.informers))
	c.informers = nil
	c.mu.Unlock()
	for _, in := range all {
		in.stop()
		<-in.done
	}
}

// Get is the object as the cache holds it, and whether the cache knows:
// synced is false while its informer has not delivered its first list,
// or when no informer watches its resource and namespace (none of the
// targets is there, or it was refused). An object in a watched resource
// and namespace is known, target or not.
func (c *Cache) Get(o contract.Object) (obj decide.Object, synced bool) {
	m, ok := c.Lookup(o)
	if !ok {
		return decide.Object{}, false
	}
	return ObjectOf(m), true
}

// Lookup is Get with the object's metadata: nil when it does not exist.
func (c *Cache) Lookup(o contract.Object) (m *Meta, synced bool) {
	k := KeyOf(o)
	c.mu.Lock()
	in, ok := c.informers[k.Resource]
	c.mu.Unlock()
	if !ok || !in.reg.HasSynced() {
		return nil, false
	}
	item, exists, err := in.inf.GetStore().GetByKey(k.Namespace + "/" + k.Name)
	if err != nil || !exists {
		return nil, true
	}
	return in.meta(item), true
}

// Kind is the kind of the resource o is of, when an informer watches it.
func (c *Cache) Kind(o contract.Object) (apiVersion, kind string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in, ok := c.informers[KeyOf(o).Resource]
	if !ok {
		return "", "", false
	}
	return in.apiVersion, in.kind, true
}

func (in *informer) meta(obj any) *Meta {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	p, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return nil
	}
	return &Meta{
		APIVersion: in.apiVersion, Kind: in.kind,
		Name: p.Name, Namespace: p.Namespace, UID: string(p.UID), ResourceVersion: p.ResourceVersion,
		Labels: p.Labels,
	}
}

func (c *Cache) wants(in *informer, m *Meta) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return m != nil && in.names[m.Name]
}

func (c *Cache) notify(ch Change) {
	c.mu.Lock()
	subs := slices.Clone(c.subs)
	c.mu.Unlock()
	for _, f := range subs {
		f(ch)
	}
}

// start runs one informer; c.informers holds it before it runs.
func (c *Cache) start(ctx context.Context, r Resource, kind string, names map[string]bool) {
	ctx, cancel := context.WithCancel(ctx)
	apiVersion := r.GVR.Version
	if r.GVR.Group != "" {
		apiVersion = r.GVR.Group + "/" + apiVersion
	}
	in := &informer{
		apiVersion: apiVersion, kind: kind,
		inf:   metadatainformer.NewFilteredMetadataInformer(c.Client, r.GVR, r.Namespace, 0, cache.Indexers{}, nil).Informer(),
		names: names,
		stop:  cancel,
		done:  make(chan struct{}),
	}
	// SetTransform fails only on an informer already started.
	_ = in.inf.SetTransform(strip)
	send := func(t ChangeType, old, new *Meta) {
		m := new
		if m == nil {
			m = old
		}
		if !c.wants(in, m) {
			return
		}
		c.notify(Change{Type: t, Key: Key{Resource: r, Name: m.Name}, Old: old, New: new})
	}
	// AddEventHandler fails only on an informer already stopped.
	in.reg, _ = in.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { send(Added, nil, in.meta(obj)) },
		UpdateFunc: func(old, obj any) {
			o, n := in.meta(old), in.meta(obj)
			if o == nil || n == nil {
				return
			}
			t := Updated
			if o.ResourceVersion == n.ResourceVersion {
				t = Relisted
			}
			send(t, o, n)
		},
		DeleteFunc: func(obj any) { send(Deleted, in.meta(obj), nil) },
	})
	c.mu.Lock()
	if _, running := c.informers[r]; running || c.informers == nil {
		// Stopped meanwhile, or another SetTargets started it: keep one.
		c.mu.Unlock()
		cancel()
		return
	}
	c.informers[r] = in
	c.mu.Unlock()
	c.Log.Info(fmt.Sprintf("watching %s", r))
	go func() {
		defer close(in.done)
		in.inf.Run(ctx.Done())
	}()
	go func() {
		if cache.WaitForCacheSync(ctx.Done(), in.reg.HasSynced) {
			c.notify(Change{Type: Synced, Key: Key{Resource: r}})
		}
	}()
}

// strip keeps of an object only what the cache reads, so that a big
// object (managedFields, annotations) costs a few hundred bytes.
func strip(obj any) (any, error) {
	p, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil
	}
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion, Labels: p.Labels,
	}}, nil
}
