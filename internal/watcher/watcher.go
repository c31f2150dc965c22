// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package watcher asks the autox interceptor to look at a group's
// trigger object whenever the group's record does not show the object's
// state. It learns the groups from their Triggers (labelled
// autox.dev/group in its namespace, read with contract.FromTrigger),
// keeps the trigger objects' metadata in an objects.Cache and the
// records (ConfigMaps labelled autox.dev/record=true) in an informer, and
// on every change of an object's version label, add, deletion, re-list,
// record change and -resync computes decide.Agrees. When the record does
// not agree it posts one small contract.Event (metadata only) naming the
// group's Trigger, and asks again with backoff (500ms doubled up to 5s)
// until the record agrees or the state changes. When it agrees it posts
// nothing: a restart costs no post for groups that are up to date.
//
// Only the leader (a Lease, see LeaseElector) posts; the other replicas
// keep their caches warm. It keeps nothing that matters: the cluster is
// the state.
package watcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/decide"
	"github.com/autox-tekton/autox/internal/objects"
)

// configMapsResource is where the records are.
var configMapsResource = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// LeaseName is the Lease the watcher's replicas compete for.
const LeaseName = "autox-watcher"

// Elector runs leader election until ctx ends, calling lead, with a
// context that ends when the lease is lost, each time it holds the lease.
type Elector interface {
	Run(ctx context.Context, lead func(ctx context.Context))
}

// Watcher watches the groups' objects and records and asks the
// interceptor about the ones that do not agree.
type Watcher struct {
	// Dynamic reads the Triggers; Kube the record ConfigMaps.
	Dynamic dynamic.Interface
	Kube    kubernetes.Interface
	// Objects caches the trigger objects; the Watcher sets its targets.
	Objects *objects.Cache
	// Access is asked whether the Triggers and the records may be read,
	// so that a missing grant or CRD fails Run with one clear line.
	Access objects.Access
	// Namespace holds the Triggers, the records and the Lease.
	Namespace string
	// Resync re-checks every group's agreement this often; 0 never (the
	// informers' re-lists still do).
	Resync time.Duration
	// RetryRefused is how often a resource that may not be watched (or
	// is not served) is asked about again; 0 means 30s.
	RetryRefused time.Duration
	// Asks paces the asks of a group whose record does not agree; zero
	// means 500ms doubled up to 5s.
	Asks Backoff
	// Clock times the asks and the resync; nil means the real clock.
	Clock clock.WithTicker
	// Poster posts the events; it runs while this replica leads.
	Poster *Poster
	// Elector decides whether this replica posts; nil means it always does.
	Elector Elector
	Metrics *Metrics
	Log     *slog.Logger

	ready atomic.Bool
	inbox inbox

	// Only the loop touches these after Run starts.
	groups   map[string]*groupState // by Trigger namespace/name
	problems map[string]string      // Trigger namespace/name -> the problem last logged
	badRecs  map[string]string      // record name -> the problem last logged
	records  listersv1.ConfigMapLister
	triggers cache.Store
	leading  bool
}

// groupState is what the loop knows of one group.
type groupState struct {
	g contract.Group
	// why is the strongest change not acted on yet (an event type), ""
	// when none.
	why   string
	dirty bool
	// asking: the record did not agree at the last look and the
	// interceptor was asked; next is when to ask again, asks how many
	// times it was asked in a row.
	asking bool
	asks   int
	next   time.Time
	// last is the object as last seen, so a deletion names its uid.
	last *objects.Meta
	// seenObj is the object at the last look (seen: there was one): a
	// change note that comes after a look that read it already is not
	// a change.
	seen    bool
	seenObj decide.Object
}

// Ready says whether the Triggers and the records have been read.
func (w *Watcher) Ready() error {
	if !w.ready.Load() {
		return errors.New("the Triggers and the records are not read yet")
	}
	return nil
}

// Run watches until ctx ends (then nil). It fails only when the Triggers
// or the records cannot be read; a bad Trigger is logged and skipped.
func (w *Watcher) Run(ctx context.Context) error {
	if _, err := w.Access.CanWatch(ctx, contract.TriggersResource, w.Namespace); err != nil {
		return fmt.Errorf("reading the Triggers: %w", err)
	}
	if _, err := w.Access.CanWatch(ctx, configMapsResource, w.Namespace); err != nil {
		return fmt.Errorf("reading the records: %w", err)
	}
	if w.Clock == nil {
		w.Clock = clock.RealClock{}
	}
	if w.Asks == (Backoff{}) {
		w.Asks = Backoff{First: 500 * time.Millisecond, Max: 5 * time.Second}
	}
	w.inbox.init()
	w.groups = map[string]*groupState{}
	w.problems = map[string]string{}
	w.badRecs = map[string]string{}
	w.leading = false

	ictx, stopInformers := context.WithCancel(ctx)
	defer stopInformers()
	defer w.Objects.Stop()
	w.Objects.Subscribe(func(c objects.Change) { w.inbox.put(note{change: &c}) })
	poke := func(n note) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { w.inbox.put(n.about(obj)) },
			UpdateFunc: func(_, obj any) { w.inbox.put(n.about(obj)) },
			DeleteFunc: func(obj any) { w.inbox.put(n.about(obj)) },
		}
	}
	triggers := dynamicinformer.NewFilteredDynamicInformer(w.Dynamic, contract.TriggersResource, w.Namespace, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = contract.GroupLabel }).Informer()
	if _, err := triggers.AddEventHandler(poke(note{triggers: true})); err != nil {
		return err
	}
	records := informers.NewSharedInformerFactoryWithOptions(w.Kube, 0, informers.WithNamespace(w.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = contract.RecordLabel + "=true" })).Core().V1().ConfigMaps()
	if _, err := records.Informer().AddEventHandler(poke(note{record: true})); err != nil {
		return err
	}
	go triggers.Run(ictx.Done())
	go records.Informer().Run(ictx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), triggers.HasSynced, records.Informer().HasSynced) {
		return fmt.Errorf("stopped (%w) before the Triggers and the records were read", context.Cause(ctx))
	}
	w.triggers, w.records = triggers.GetStore(), records.Lister()
	w.ready.Store(true)
	w.Log.Info(fmt.Sprintf("watching the Triggers labelled %s and the records labelled %s=true in namespace %s", contract.GroupLabel, contract.RecordLabel, w.Namespace))

	var leader sync.WaitGroup
	defer leader.Wait()
	lctx, stopLeading := context.WithCancel(ctx)
	defer stopLeading()
	leader.Add(1)
	go func() {
		defer leader.Done()
		if w.Elector == nil {
			w.lead(lctx)
			return
		}
		w.Elector.Run(lctx, w.lead)
	}()
	return w.loop(ctx)
}

// lead posts while ctx lasts: ctx ends when the lease is lost, and
// posting stops at once.
func (w *Watcher) lead(ctx context.Context) {
	w.Poster.Clear()
	w.Metrics.Leader.Set(1)
	w.inbox.put(note{leading: ptr(true)})
	w.Poster.Run(ctx)
	w.Metrics.Leader.Set(0)
	w.inbox.put(note{leading: ptr(false)})
}

// loop owns the groups: it reads the inbox, asks when an ask is due, and
// re-checks on -resync.
func (w *Watcher) loop(ctx context.Context) error {
	var resync <-chan time.Time
	if w.Resync > 0 {
		t := w.Clock.NewTicker(w.Resync)
		defer t.Stop()
		resync = t.C()
	}
	var retry <-chan time.Time
	if w.reconcile(ctx) {
		retry = w.Clock.After(w.retryRefused())
	}
	for {
		now := w.Clock.Now()
		w.evaluate(now)
		var due <-chan time.Time
		var timer clock.Timer
		if next := w.nextAsk(); !next.IsZero() {
			timer = w.Clock.NewTimer(next.Sub(now))
			due = timer.C()
			// The clock may have moved since now: an ask already due is
			// made at once.
			if !w.Clock.Now().Before(next) {
				timer.Stop()
				continue
			}
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case <-w.inbox.wake:
			if w.handle(w.inbox.take()) && w.reconcile(ctx) && retry == nil {
				retry = w.Clock.After(w.retryRefused())
			}
		case <-due:
		case <-retry:
			retry = nil
			if w.reconcile(ctx) {
				// A grant or a CRD may come later: ask again, without a
				// restart and without waiting for a Trigger to change.
				retry = w.Clock.After(w.retryRefused())
			}
		case <-resync:
			for _, gs := range w.groups {
				gs.mark("")
			}
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func (w *Watcher) retryRefused() time.Duration {
	if w.RetryRefused > 0 {
		return w.RetryRefused
	}
	return 30 * time.Second
}

// handle applies notes to the groups; it says whether the Triggers
// changed.
func (w *Watcher) handle(notes []note) (triggersChanged bool) {
	for _, n := range notes {
		switch {
		case n.triggers:
			triggersChanged = true
		case n.record:
			for _, gs := range w.groups {
				if contract.RecordName(gs.g.Group, gs.g.Spec) == n.name {
					gs.dirty = true
				}
			}
		case n.leading != nil:
			w.leading = *n.leading
			if w.leading {
				w.Log.Info("leading: asking the interceptor about every group whose record does not agree")
				// A new leader knows nothing of what was asked before.
				for _, gs := range w.groups {
					gs.asking, gs.asks = false, 0
					gs.mark("")
				}
			}
		case n.change != nil:
			w.changed(*n.change)
		}
	}
	return triggersChanged
}

// changed marks the groups an object change concerns.
func (w *Watcher) changed(c objects.Change) {
	why := ""
	switch c.Type {
	case objects.Added:
		why = contract.Add
	case objects.Deleted:
		why = contract.Delete
	case objects.Relisted, objects.Synced:
		// Nothing changed: look again, without starting the backoff over.
	case objects.Updated:
		if objects.ObjectOf(c.Old) == objects.ObjectOf(c.New) {
			return // scaled, re-imaged, relabelled: not the version
		}
		why = contract.Update
	}
	for _, gs := range w.groups {
		k := objects.KeyOf(*gs.g.Trigger)
		if k == c.Key || (c.Type == objects.Synced && k.Resource == c.Key.Resource) {
			if gs.seen && gs.seenObj == objects.ObjectOf(c.New) {
				// Seen already: a look since the change read the cache.
				gs.mark("")
				continue
			}
			gs.mark(why)
			if c.Old != nil {
				gs.last = c.Old
			}
			if c.New != nil {
				gs.last = c.New
			}
		}
	}
}

// rank orders event types by how much they say: a change of the version
// says more than an add (the object was there; its label moved).
var rank = map[string]int{"": 0, contract.Resync: 1, contract.Add: 2, contract.Update: 3, contract.Delete: 4}

// mark has the group looked at again; why is the change that happened,
// "" when nothing did (a re-list, a resync, a record change).
func (gs *groupState) mark(why string) {
	gs.dirty = true
	if rank[why] > rank[gs.why] {
		gs.why = why
	}
}

// evaluate looks at every group changed since the last look, and at
// every group whose ask is due.
func (w *Watcher) evaluate(now time.Time) {
	for _, id := range slices.Sorted(maps.Keys(w.groups)) {
		gs := w.groups[id]
		due := gs.asking && !now.Before(gs.next)
		if !gs.dirty && !due {
			continue
		}
		w.look(gs, now)
	}
}

// look compares one group's record with its object, and asks when they
// do not agree: at once after a change of the object, else when the
// backoff says.
func (w *Watcher) look(gs *groupState, now time.Time) {
	g := gs.g
	m, synced := w.Objects.Lookup(*g.Trigger)
	if !synced {
		return // the Synced change marks it again
	}
	gs.dirty = false
	if m != nil {
		gs.last = m
	}
	obj := objects.ObjectOf(m)
	if gs.seen && gs.seenObj != obj && rank[gs.why] < rank[contract.Add] {
		// The cache moved before its note came: name the change.
		switch {
		case !obj.Exists:
			gs.why = contract.Delete
		case !gs.seenObj.Exists:
			gs.why = contract.Add
		default:
			gs.why = contract.Update
		}
	}
	gs.seen, gs.seenObj = true, obj
	rec := w.record(g)
	if decide.Agrees(g, rec, obj, now) {
		if gs.asking {
			w.Log.Info(fmt.Sprintf("the record of %s shows %s of %s; asking no more", g.Key(), state(obj), g.Trigger))
		} else {
			w.Log.Debug(fmt.Sprintf("the record of %s shows %s of %s; nothing to ask", g.Key(), state(obj), g.Trigger))
		}
		gs.why, gs.asking, gs.asks = "", false, 0
		return
	}
	if !w.leading {
		return // the leader asks; a new leader looks at every group
	}
	why := gs.why
	switch {
	case why != "":
		gs.asks = 0 // a change: ask now, and start the backoff again
	case !gs.asking:
		why = contract.Resync
	case now.Before(gs.next):
		return
	default:
		why = contract.Resync
	}
	gs.why = ""
	gs.asks++
	gs.asking = true
	d := w.Asks.delay(gs.asks)
	gs.next = now.Add(d)
	apiVersion, kind := g.Trigger.APIVersion(), ""
	if gs.last != nil {
		kind = gs.last.Kind
	} else if _, k, ok := w.Objects.Kind(*g.Trigger); ok {
		kind = k
	}
	ev := eventFor(why, g, apiVersion, kind, gs.last)
	msg := fmt.Sprintf("the record of %s does not show %s of %s; asking the interceptor (%s), again in %s unless it does", g.Key(), state(obj), g.Trigger, why, d)
	if gs.asks == 1 {
		w.Log.Info(msg)
	} else {
		w.Log.Debug(msg)
	}
	w.Metrics.Asks.Inc()
	w.Poster.Send(ev)
}

// state names what the object asks for, for logs.
func state(o decide.Object) string {
	switch {
	case !o.Exists:
		return "the deletion"
	case o.Version == "":
		return "the removal of the version label"
	}
	return fmt.Sprintf("version %q", o.Version)
}

// record is g's record; the zero Record when there is none, or when it
// cannot be read (logged once per problem).
func (w *Watcher) record(g contract.Group) contract.Record {
	name := contract.RecordName(g.Group, g.Spec)
	cm, err := w.records.ConfigMaps(w.Namespace).Get(name)
	if err != nil {
		return contract.Record{}
	}
	rec, err := contract.RecordFrom(cm)
	if err != nil {
		if w.badRecs[name] != err.Error() {
			w.Log.Warn(fmt.Sprintf("record of %s: %v; taken as empty", g.Key(), err))
			w.badRecs[name] = err.Error()
		}
		return contract.Record{}
	}
	delete(w.badRecs, name)
	return rec
}

func (w *Watcher) nextAsk() time.Time {
	var next time.Time
	for _, gs := range w.groups {
		if gs.asking && w.leading && (next.IsZero() || gs.next.Before(next)) {
			next = gs.next
		}
	}
	return next
}

// reconcile makes the groups and the cache's targets match the Triggers,
// and logs each Trigger's problem once (again only when it changes). It
// reports whether a resource could not be watched.
func (w *Watcher) reconcile(ctx context.Context) (refused bool) {
	groups := map[string]contract.Group{}
	problems := map[string]string{}
	present := map[string]bool{}
	var targets []contract.Object
	for _, o := range w.triggers.List() {
		tr, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		if _, labelled := tr.GetLabels()[contract.GroupLabel]; !labelled {
			continue // the API server selects by label; a fake client may not
		}
		id := tr.GetNamespace() + "/" + tr.GetName()
		present[id] = true
		g, err := contract.FromTrigger(tr)
		if err != nil {
			problems[id] = strings.ReplaceAll(err.Error(), "\n", "; ")
			continue
		}
		groups[id] = g
		if !slices.Contains(targets, *g.Trigger) {
			targets = append(targets, *g.Trigger)
		}
	}
	refusals := w.Objects.SetTargets(ctx, targets)
	for id, g := range groups {
		if err, ok := refusals[*g.Trigger]; ok {
			problems[id] = err.Error()
			refused = true
		}
	}
	for id := range w.groups {
		if _, ok := groups[id]; !ok {
			delete(w.groups, id)
		}
	}
	for id, g := range groups {
		gs, ok := w.groups[id]
		switch {
		case !ok:
			w.groups[id] = &groupState{g: g, why: contract.Add, dirty: true}
		case !reflect.DeepEqual(gs.g, g):
			gs.g, gs.last, gs.seen = g, nil, false
			gs.mark(contract.Add)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(problems)) {
		if p := problems[id]; w.problems[id] != p {
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

func ptr[T any](v T) *T { return &v }

// note is one thing the informers or the leader tell the loop.
type note struct {
	triggers bool
	// record: the record ConfigMap name changed.
	record bool
	name   string
	change *objects.Change
	// leading: this replica started (true) or stopped (false) leading.
	leading *bool
}

// about fills in a record note's ConfigMap name.
func (n note) about(obj any) note {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if cm, ok := obj.(*corev1.ConfigMap); ok {
		n.name = cm.Name
	}
	return n
}

// inbox hands notes from the informers' goroutines to the loop without
// blocking them.
type inbox struct {
	mu    sync.Mutex
	notes []note
	wake  chan struct{}
}

func (b *inbox) init() { b.wake = make(chan struct{}, 1) }

func (b *inbox) put(n note) {
	b.mu.Lock()
	b.notes = append(b.notes, n)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *inbox) take() []note {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.notes
	b.notes = nil
	return n
}
