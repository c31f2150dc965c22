// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tektoncd/triggers/pkg/interceptors/server"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/decide"
)

// benchGroups is the number of groups on the EventListener in the bench:
// the goal is stated with 1000.
const benchGroups = 1000

// groupTrigger is the Trigger of group g<i>, watching Deployment d<i>.
func groupTrigger(tb testing.TB, i int) *unstructured.Unstructured {
	tb.Helper()
	doc := fmt.Sprintf(`
apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: autox-g%[1]d-iter8, namespace: autox, uid: tr-%[1]d, labels: {autox.dev/group: g%[1]d, autox.dev/spec: iter8}}
spec:
  interceptors:
    - name: autox
      ref: {name: autox, kind: ClusterInterceptor}
      params:
        - {name: group, value: g%[1]d}
        - {name: spec, value: iter8}
        - {name: trigger, value: {name: d%[1]d, namespace: default, group: apps, version: v1, resource: deployments}}
        - {name: experiment, value: {tasks: [ready, http, assess], http: {url: "http://d%[1]d.default/get"}}}
  bindings: [{ref: autox}]
  template: {ref: autox}
`, i)
	var u unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		tb.Fatal(err)
	}
	return &u
}

// benchObjects is the trigger objects, each at a version the bench sets.
type benchObjects struct {
	mu       sync.RWMutex
	versions map[string]string
}

func (o *benchObjects) set(name, version string) {
	o.mu.Lock()
	o.versions[name] = version
	o.mu.Unlock()
}

func (o *benchObjects) Cached(t contract.Object) (decide.Object, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return decide.Object{Exists: true, UID: "uid-" + t.Name, Version: o.versions[t.Name]}, true
}

func (o *benchObjects) Live(_ context.Context, t contract.Object) (decide.Object, error) {
	obj, _ := o.Cached(t)
	return obj, nil
}

// benchRecords is one memRecords per group/spec.
type benchRecords struct {
	mu   sync.Mutex
	recs map[string]*memRecords
}

func (b *benchRecords) of(group, spec string) *memRecords {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.recs[group+"/"+spec]
	if !ok {
		m = &memRecords{}
		b.recs[group+"/"+spec] = m
	}
	return m
}

func (b *benchRecords) Cached(g, s string) (StoredRecord, bool, error) {
	return b.of(g, s).Cached(g, s)
}
func (b *benchRecords) Live(ctx context.Context, g, s string) (StoredRecord, bool, error) {
	return b.of(g, s).Live(ctx, g, s)
}
func (b *benchRecords) Create(ctx context.Context, g contract.Group) (StoredRecord, error) {
	return b.of(g.Group, g.Spec).Create(ctx, g)
}

// Update plays the reconciler too: a run superseded by the write has
// ended, so records stay the size they are in a cluster.
func (b *benchRecords) Update(ctx context.Context, r StoredRecord) (StoredRecord, error) {
	r.Runs = append([]contract.Entry(nil), r.Runs...)
	for k := range r.Runs[:max(len(r.Runs)-1, 0)] {
		if r.Runs[k].Active() {
			r.Runs[k].State = contract.Cancelled
		}
	}
	r.Trim()
	return b.of(r.Group, r.Spec).Update(ctx, r)
}

// BenchmarkDecision measures one decision as the EventListener gets it,
// with 1000 groups' Triggers in the interceptor's informer (parsed from a
// fake API server's list): an InterceptorRequest decoded by Triggers'
// server, the event parsed, the group's Trigger, object and record read
// from the caches, the decision made, the record written when it changes
// (optimistic concurrency, in memory) and the response encoded (no
// network, no TLS: those are the EventListener's and Go's). It reports
// decisions/s and the p99 latency in ms; the goal (issue 18) is at least
// 5000/s and a p99 under 5 ms with 1000 groups.
//
//	go test -run '^$' -bench Decision ./internal/interceptor
func BenchmarkDecision(b *testing.B) {
	objs := make([]runtime.Object, benchGroups)
	for i := range objs {
		objs[i] = groupTrigger(b, i)
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{contract.TriggersResource: "TriggerList"}, objs...)
	groups, err := NewGroupCache(client, ns)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go groups.Run(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), groups.HasSynced) {
		b.Fatal("the Triggers were not listed")
	}
	if n := len(groups.Targets()); n != benchGroups {
		b.Fatalf("%d groups in the cache, want %d", n, benchGroups)
	}
	objects := &benchObjects{versions: map[string]string{}}
	records := &benchRecords{recs: map[string]*memRecords{}}
	i := &Interceptor{Namespace: ns, RunsNamespace: ns, Groups: groups, Objects: objects, Records: records, Canceller: &fakeCanceller{},
		Metrics: NewMetrics(prometheus.NewRegistry()), Log: slog.New(slog.DiscardHandler)}
	ts := &server.Server{Logger: zap.NewNop().Sugar()}
	ts.RegisterInterceptor(Name, i)
	post := func(k int, version string, wantCont bool) time.Duration {
		ev := fmt.Sprintf(`{"type":"update","trigger":"autox-g%[1]d-iter8","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d%[1]d","namespace":"default","uid":"uid-d%[1]d","resourceVersion":"1","labels":{"app.kubernetes.io/version":%[2]q}}}}`, k, version)
		body := fmt.Sprintf(`{"body":%q,"header":{},"interceptor_params":{},"context":{"event_id":"e","trigger_id":"namespaces/autox/triggers/autox"}}`, ev)
		start := time.Now()
		rec := httptest.NewRecorder()
		ts.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/"+Name, bytes.NewReader([]byte(body))))
		took := time.Since(start)
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(fmt.Sprintf(`"continue":%t`, wantCont))) {
			b.Fatalf("HTTP %d %s, want continue %t", rec.Code, rec.Body, wantCont)
		}
		return took
	}
	// Every group has had version 1.0.0 launched.
	for k := range benchGroups {
		objects.set(fmt.Sprintf("d%d", k), "1.0.0")
		post(k, "1.0.0", true)
	}
	var n atomic.Int64
	for _, tc := range []struct {
		name   string
		decide func() time.Duration
	}{
		// A duplicate, a resync, a forged claim: the common call.
		{"same-version", func() time.Duration {
			k := int(n.Add(1) % benchGroups)
			return post(k, "1.0.0", false)
		}},
		// A new version: the record written, the run before cancelled.
		{"new-version", func() time.Duration {
			m := n.Add(1)
			k := int(m % benchGroups)
			v := strconv.FormatInt(m+1, 10) + ".0.0"
			objects.set(fmt.Sprintf("d%d", k), v)
			return post(k, v, true)
		}},
	} {
		b.Run(tc.name+"/serial", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				lat = append(lat, tc.decide())
			}
			report(b, lat)
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			var mu sync.Mutex
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					mine = append(mine, tc.decide())
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			report(b, lat)
		})
	}
}

// report adds decisions/s (over the benchmark's wall time) and the p99
// latency of one decision, in ms.
func report(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	elapsed := b.Elapsed()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[(len(lat)*99+99)/100-1]
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99-ms")
}
