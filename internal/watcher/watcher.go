// Package watcher turns changes of watched objects into events for the
// autox EventListener. It learns what to watch from the Triggers labelled
// autox.dev/group in its namespace (the autox interceptor's `trigger`
// param of each), runs one dynamic informer per resource and namespace
// (not per object), started and stopped as Triggers come and go, and
// posts, through a Poster, every change of the version label, every
// deletion, and on start and on every re-list or resync the current state
// of each watched object. It keeps nothing that matters: on a restart it
// re-sends every object's state, and the interceptor dedupes.
package watcher

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// Watcher watches what the Triggers name and sends events.
type Watcher struct {
	Dynamic dynamic.Interface
	// Access is asked before an informer starts, so that a resource not
	// served, or not allowed, is one clear line and not an informer
	// retrying forever.
	Access Access
	// Namespace is the autox EventListener's: its Triggers are read there.
	Namespace string
	// Resync re-sends the state of every watched object this often (and
	// re-reads the Triggers); 0 turns it off.
	Resync time.Duration
	// RetryRefused is how often a resource that may not be watched (or
	// is not served) is asked about again; 0 means 30s.
	RetryRefused time.Duration
	Send         Sender
	Log          *slog.Logger

	// Only the reconcile loop touches these after Run starts.
	watches  map[resourceKey]*informerRun
	problems map[string]string // Trigger namespace/name -> the problem last logged
}

// informerRun is one running informer and the names it posts for.
type informerRun struct {
	informer cache.SharedIndexInformer
	stop     context.CancelFunc
	done     chan struct{}

	mu    sync.Mutex
	names map[string]bool
}

func (w *informerRun) wants(obj *unstructured.Unstructured) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.names[obj.GetName()]
}

// Run watches until ctx ends. It fails only when the Triggers themselves
// cannot be watched; a bad Trigger is logged and skipped.
func (w *Watcher) Run(ctx context.Context) error {
	if err := w.Access.CanWatch(ctx, TriggersResource, w.Namespace); err != nil {
		return fmt.Errorf("reading the Triggers: %w", err)
	}
	w.watches = map[resourceKey]*informerRun{}
	w.problems = map[string]string{}
	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	triggers := dynamicinformer.NewFilteredDynamicInformer(w.Dynamic, TriggersResource, w.Namespace, w.Resync, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = GroupLabel }).Informer()
	if _, err := triggers.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	}); err != nil {
		return err
	}
	tctx, stopTriggers := context.WithCancel(ctx)
	defer stopTriggers()
	go triggers.Run(tctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), triggers.HasSynced) {
		return fmt.Errorf("stopped (%w) before the Triggers were read", context.Cause(ctx))
	}
	w.Log.Info(fmt.Sprintf("watching the Triggers labelled %s in namespace %s", GroupLabel, w.Namespace))
	defer w.stopAll()
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-retry:
		}
		retry = nil
		if refused := w.reconcile(ctx, triggers.GetStore().List()); refused {
			// A grant or a CRD may come later: ask again, without a
			// restart and without waiting for a Trigger to change.
			retry = time.After(cmp.Or(w.RetryRefused, 30*time.Second))
		}
	}
}

// reconcile makes the running informers match the Triggers: it starts
// the ones newly named, stops the ones no Trigger names any more, and
// logs each Trigger's problem once (again only when it changes). It
// reports whether a resource could not be watched.
func (w *Watcher) reconcile(ctx context.Context, objs []any) (refused bool) {
	want := map[resourceKey]map[string]bool{}
	byKey := map[resourceKey][]string{} // the Triggers naming each resource
	problems := map[string]string{}
	present := map[string]bool{}
	for _, o := range objs {
		tr, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		if _, labelled := tr.GetLabels()[GroupLabel]; !labelled {
			continue // the API server selects by label; a fake client may not
		}
		id := tr.GetNamespace() + "/" + tr.GetName()
		present[id] = true
		t, err := parseTrigger(tr)
		if err != nil {
			problems[id] = err.Error()
			continue
		}
		if want[t.resourceKey] == nil {
			want[t.resourceKey] = map[string]bool{}
		}
		want[t.resourceKey][t.Name] = true
		byKey[t.resourceKey] = append(byKey[t.resourceKey], id)
	}
	for key, wa := range w.watches {
		if want[key] == nil {
			wa.stop()
			<-wa.done
			delete(w.watches, key)
			w.Log.Info(fmt.Sprintf("stopped watching %s: no Trigger names it", key))
		}
	}
	for _, key := range sortedKeys(want) {
		names := want[key]
		if wa, ok := w.watches[key]; ok {
			w.rename(key, wa, names)
			continue
		}
		if err := w.Access.CanWatch(ctx, key.Resource, key.Namespace); err != nil {
			refused = true
			for _, id := range byKey[key] {
				problems[id] = err.Error()
			}
			continue
		}
		w.watches[key] = w.start(ctx, key, names)
		w.Log.Info(fmt.Sprintf("watching %s: %s", key, strings.Join(slices.Sorted(maps.Keys(names)), ", ")))
	}
	for id, p := range problems {
		if w.problems[id] != p {
			w.Log.Error(fmt.Sprintf("Trigger %s is not watched: %s", id, p))
		}
	}
	for id := range w.problems {
		if _, still := problems[id]; !still && present[id] {
			w.Log.Info(fmt.Sprintf("Trigger %s is watched now", id))
		}
	}
	w.problems = problems
	return refused
}

// rename gives a running informer a new set of names, and sends the
// current state of each name it did not post for before: a Trigger
// added for an object whose resource was watched already.
func (w *Watcher) rename(key resourceKey, wa *informerRun, names map[string]bool) {
	wa.mu.Lock()
	var added []string
	for n := range names {
		if !wa.names[n] {
			added = append(added, n)
		}
	}
	same := len(added) == 0 && len(names) == len(wa.names)
	wa.names = names
	wa.mu.Unlock()
	if same {
		return
	}
	w.Log.Info(fmt.Sprintf("watching %s: %s", key, strings.Join(slices.Sorted(maps.Keys(names)), ", ")))
	for _, n := range added {
		// Not in the store yet (not listed yet, or not created):
		// the informer's add will post it.
		if o, ok, _ := wa.informer.GetStore().GetByKey(key.Namespace + "/" + n); ok {
			w.Send.Send(onAdd(o.(*unstructured.Unstructured)))
		}
	}
}

// start runs one informer for a resource in a namespace, posting for the
// given names.
func (w *Watcher) start(ctx context.Context, key resourceKey, names map[string]bool) *informerRun {
	ctx, cancel := context.WithCancel(ctx)
	wa := &informerRun{
		informer: dynamicinformer.NewFilteredDynamicInformer(w.Dynamic, key.Resource, key.Namespace, w.Resync, cache.Indexers{}, nil).Informer(),
		stop:     cancel,
		done:     make(chan struct{}),
		names:    names,
	}
	send := func(obj any, event func(*unstructured.Unstructured) (Event, bool)) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok || !wa.wants(u) {
			return
		}
		if ev, ok := event(u); ok {
			w.Send.Send(ev)
		}
	}
	// AddEventHandler fails only on an informer already stopped.
	_, _ = wa.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			send(obj, func(u *unstructured.Unstructured) (Event, bool) { return onAdd(u), true })
		},
		UpdateFunc: func(old, obj any) {
			o, ok := old.(*unstructured.Unstructured)
			if !ok {
				return
			}
			send(obj, func(u *unstructured.Unstructured) (Event, bool) { return onUpdate(o, u) })
		},
		DeleteFunc: func(obj any) {
			ev, ok := onDelete(obj)
			if ok && wa.wants(ev.Object) {
				w.Send.Send(ev)
			}
		},
	})
	go func() {
		defer close(wa.done)
		wa.informer.Run(ctx.Done())
	}()
	return wa
}

func (w *Watcher) stopAll() {
	for key, wa := range w.watches {
		wa.stop()
		<-wa.done
		delete(w.watches, key)
	}
}

// watching lists the resources with a running informer, for tests.
func (w *Watcher) watching() []string {
	var out []string
	for key := range w.watches {
		out = append(out, key.String())
	}
	slices.Sort(out)
	return out
}

func sortedKeys(m map[resourceKey]map[string]bool) []resourceKey {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b resourceKey) int { return strings.Compare(a.String(), b.String()) })
	return keys
}
