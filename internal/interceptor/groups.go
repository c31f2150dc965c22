// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/autox-tekton/autox/internal/contract"
)

// Groups are the groups' Triggers in the install namespace, parsed once
// when they change: a decision takes its params from here, never from a
// request.
type Groups interface {
	// Group returns the group of the named Trigger; ok is false when no
	// Trigger labelled autox.dev/group has that name. err is the Trigger's
	// problem when it cannot be read.
	Group(name string) (g contract.Group, ok bool, err error)
	// Naming returns the names of the Triggers whose object ref is, sorted.
	Naming(ref contract.ObjectRef) []string
	// LiveUID reads the Trigger's UID from the API server ("" when it is
	// gone): a record written for another Trigger UID is checked against
	// it, so a cache a moment behind never points a record at a Trigger
	// that was deleted.
	LiveUID(ctx context.Context, name string) (string, error)
}

// groupEntry is a parsed Trigger.
type groupEntry struct {
	group contract.Group
	err   error
}

// GroupCache is an informer on the Triggers labelled autox.dev/group in
// one namespace.
type GroupCache struct {
	client    dynamic.Interface
	namespace string
	informer  cache.SharedIndexInformer
	mu        sync.RWMutex
	groups    map[string]groupEntry
	// changed hears of every change of the set (for the object cache's
	// targets); it runs on the informer's goroutine.
	changed func()
}

var _ Groups = (*GroupCache)(nil)

// NewGroupCache makes the cache; Run it, then wait for HasSynced.
func NewGroupCache(client dynamic.Interface, namespace string) (*GroupCache, error) {
	inf := dynamicinformer.NewFilteredDynamicInformer(client, contract.TriggersResource, namespace, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = contract.GroupLabel }).Informer()
	c := &GroupCache{client: client, namespace: namespace, informer: inf, groups: map[string]groupEntry{}}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.set,
		UpdateFunc: func(_, obj any) { c.set(obj) },
		DeleteFunc: c.remove,
	}); err != nil {
		return nil, fmt.Errorf("watching the Triggers: %w", err)
	}
	return c, nil
}

// OnChange, called before Run, is called after every change of a Trigger.
func (c *GroupCache) OnChange(f func()) { c.changed = f }

// Run fills and follows the cache until ctx ends.
func (c *GroupCache) Run(ctx context.Context) { c.informer.Run(ctx.Done()) }

// HasSynced is true once the first list is in.
func (c *GroupCache) HasSynced() bool { return c.informer.HasSynced() }

func (c *GroupCache) set(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	g, err := contract.FromTrigger(u)
	c.mu.Lock()
	c.groups[u.GetName()] = groupEntry{group: g, err: err}
	c.mu.Unlock()
	if c.changed != nil {
		c.changed()
	}
}

func (c *GroupCache) remove(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	c.mu.Lock()
	delete(c.groups, u.GetName())
	c.mu.Unlock()
	if c.changed != nil {
		c.changed()
	}
}

// Group implements Groups.
func (c *GroupCache) Group(name string) (contract.Group, bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.groups[name]
	return e.group, ok, e.err
}

// Naming implements Groups.
func (c *GroupCache) Naming(ref contract.ObjectRef) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for name, e := range c.groups {
		if e.err == nil && e.group.Params.Trigger != nil && e.group.Params.Trigger.Matches(ref) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Targets are the objects the readable Triggers name.
func (c *GroupCache) Targets() []contract.Object {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []contract.Object
	for _, e := range c.groups {
		if e.err == nil && e.group.Params.Trigger != nil {
			out = append(out, *e.group.Params.Trigger)
		}
	}
	return out
}

// LiveUID implements Groups.
func (c *GroupCache) LiveUID(ctx context.Context, name string) (string, error) {
	tr, err := c.client.Resource(contract.TriggersResource).Namespace(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading Trigger %s/%s: %w", c.namespace, name, err)
	}
	return string(tr.GetUID()), nil
}
