// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package history

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/inputfile"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/result"
)

const ns = "autox-system"

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

var owner = []metav1.OwnerReference{{APIVersion: "triggers.tekton.dev/v1beta1", Kind: "Trigger", Name: "autox-httpbin-iter8", UID: "tr-1"}}

// small is a result of no load, enough for the index's bookkeeping.
func small(passed bool, end time.Time) *result.Result {
	return &result.Result{Version: result.Version, Completed: true, SLOsSatisfied: passed, EndTime: end}
}

// entry is the entry of run <run> (uid uid-<run>) of version.
func entry(run, version string, passed bool, minute int) Entry {
	return Entry{Version: version, Run: run, RunUID: "uid-" + run, Passed: passed, EndTime: t0.Add(time.Duration(minute) * time.Minute), Key: run + ".json.gz"}
}

// TestKeep: each run's result is added once; a newer run of a version
// replaces the older; the history is owned by the Trigger, labelled, and
// holds a result for every entry and nothing else.
func TestKeep(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keeps []Entry
		want  []Entry
	}{
		{name: "the first run makes the history",
			keeps: []Entry{entry("run-1", "1.0.0", true, 1)},
			want:  []Entry{entry("run-1", "1.0.0", true, 1)}},
		{name: "a new version is appended",
			keeps: []Entry{entry("run-1", "1.0.0", true, 1), entry("run-2", "2.0.0", false, 2)},
			want:  []Entry{entry("run-1", "1.0.0", true, 1), entry("run-2", "2.0.0", false, 2)}},
		{name: "the same run kept again changes nothing",
			keeps: []Entry{entry("run-1", "1.0.0", true, 1), entry("run-2", "2.0.0", true, 2), entry("run-1", "1.0.0", true, 1)},
			want:  []Entry{entry("run-1", "1.0.0", true, 1), entry("run-2", "2.0.0", true, 2)}},
		{name: "a second run of a version replaces the first",
			keeps: []Entry{entry("run-1", "1.0.0", true, 1), entry("run-2", "2.0.0", true, 2), entry("run-3", "1.0.0", false, 3)},
			want:  []Entry{entry("run-2", "2.0.0", true, 2), entry("run-3", "1.0.0", false, 3)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewSimpleClientset()
			s := Store{ConfigMaps: client.CoreV1(), Namespace: ns}
			for _, e := range tc.keeps {
				if err := s.Keep(context.Background(), "httpbin", "iter8", owner, Entry{Version: e.Version, Run: e.Run, RunUID: e.RunUID, Passed: e.Passed, EndTime: e.EndTime}, small(e.Passed, e.EndTime)); err != nil {
					t.Fatal(err)
				}
			}
			h, err := s.Load(context.Background(), "httpbin", "iter8")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, h.Entries, cmpopts.IgnoreFields(Entry{}, "Bytes")); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			var keys []string
			for _, e := range h.Entries {
				keys = append(keys, e.Key)
				if r, err := h.Result(e); err != nil || !r.EndTime.Equal(e.EndTime) || r.SLOsSatisfied != e.Passed || e.Bytes != len(h.results[e.Key]) {
					t.Errorf("the result of %s: %v, %v (%d bytes, the entry says %d); want the result kept", e.Run, r, err, len(h.results[e.Key]), e.Bytes)
				}
			}
			var stored []string
			for k := range h.results {
				stored = append(stored, k)
			}
			if diff := cmp.Diff(keys, stored, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("binaryData keys: the entries' (-want +got):\n%s", diff)
			}
			cm, err := client.CoreV1().ConfigMaps(ns).Get(context.Background(), "autox-history-httpbin.iter8", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(owner, cm.OwnerReferences); diff != "" {
				t.Errorf("owner (-want +got):\n%s", diff)
			}
			if cm.Labels[Label] != "true" || cm.Labels["autox.dev/group"] != "httpbin" || cm.Labels["autox.dev/spec"] != "iter8" {
				t.Errorf("labels %v; want %s=true and the group's", cm.Labels, Label)
			}
		})
	}
}

// TestKeep_SameRunWritesOnce: keeping a run already kept writes nothing.
func TestKeep_SameRunWritesOnce(t *testing.T) {
	client := fake.NewSimpleClientset()
	s := Store{ConfigMaps: client.CoreV1(), Namespace: ns}
	e := entry("run-1", "1.0.0", true, 1)
	for range 3 {
		if err := s.Keep(context.Background(), "httpbin", "iter8", owner, e, small(true, e.EndTime)); err != nil {
			t.Fatal(err)
		}
	}
	var writes []string
	for _, a := range client.Actions() {
		if a.GetVerb() != "get" {
			writes = append(writes, a.GetVerb())
		}
	}
	if diff := cmp.Diff([]string{"create"}, writes); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}

// TestAdd_Trim: a history keeps MaxVersions versions within MaxBytes,
// dropping the oldest first but never the newest that passed (the
// baseline) nor the entry just added.
func TestAdd_Trim(t *testing.T) {
	versions := func(n int, passed func(i int) bool, size int) []Entry {
		var out []Entry
		for i := 1; i <= n; i++ {
			e := entry(fmt.Sprintf("run-%d", i), fmt.Sprintf("%d.0.0", i), passed(i), i)
			e.Bytes = size
			out = append(out, e)
		}
		return out
	}
	runs := func(es []Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Run)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		adds []Entry
		want []string
	}{
		{name: "the oldest version goes beyond MaxVersions",
			adds: versions(MaxVersions+2, func(int) bool { return true }, 100),
			want: []string{"run-3", "run-4", "run-5", "run-6", "run-7", "run-8", "run-9", "run-10", "run-11", "run-12"}},
		{name: "the newest that passed stays though it is the oldest",
			adds: versions(MaxVersions+2, func(i int) bool { return i == 1 }, 100),
			want: []string{"run-1", "run-4", "run-5", "run-6", "run-7", "run-8", "run-9", "run-10", "run-11", "run-12"}},
		{name: "an older that passed goes once a newer passed",
			adds: versions(MaxVersions+2, func(i int) bool { return i == 1 || i == 5 }, 100),
			want: []string{"run-3", "run-4", "run-5", "run-6", "run-7", "run-8", "run-9", "run-10", "run-11", "run-12"}},
		{name: "MaxBytes: the oldest go first",
			adds: versions(6, func(int) bool { return true }, 100<<10),
			want: []string{"run-2", "run-3", "run-4", "run-5", "run-6"}},
		{name: "MaxBytes: the newest that passed stays",
			adds: versions(7, func(i int) bool { return i == 1 }, 100<<10),
			want: []string{"run-1", "run-4", "run-5", "run-6", "run-7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &History{Index: Index{Group: "httpbin", Spec: "iter8"}}
			for _, e := range tc.adds {
				h.add(e, make([]byte, e.Bytes))
			}
			if diff := cmp.Diff(tc.want, runs(h.Entries)); diff != "" {
				t.Errorf("runs kept (-want +got):\n%s", diff)
			}
			total := 0
			for _, e := range h.Entries {
				total += e.Bytes
			}
			if total > MaxBytes || len(h.results) != len(h.Entries) {
				t.Errorf("%d bytes in %d results for %d entries; want at most %d bytes, one result per entry", total, len(h.results), len(h.Entries), MaxBytes)
			}
		})
	}
}

// TestBaseline: the newest entry that passed, other than the run asking.
func TestBaseline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []Entry
		run     string
		want    string
		wantOK  bool
	}{
		{name: "the newest that passed",
			entries: []Entry{entry("run-1", "1.0.0", true, 1), entry("run-2", "2.0.0", true, 2)},
			run:     "run-3", want: "run-2", wantOK: true},
		{name: "a failed run is skipped",
			entries: []Entry{entry("run-1", "1.0.0", true, 1), entry("run-2", "2.0.0", false, 2)},
			run:     "run-3", want: "run-1", wantOK: true},
		{name: "the run itself is skipped",
			entries: []Entry{entry("run-1", "1.0.0", true, 1), entry("run-2", "2.0.0", true, 2)},
			run:     "run-2", want: "run-1", wantOK: true},
		{name: "none passed",
			entries: []Entry{entry("run-1", "1.0.0", false, 1)},
			run:     "run-2"},
		{name: "an empty history", run: "run-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &History{Index: Index{Group: "httpbin", Spec: "iter8", Entries: tc.entries}}
			got, ok := h.Baseline(tc.run)
			if got.Run != tc.want || ok != tc.wantOK {
				t.Errorf("Baseline(%q) = %q, %t; want %q, %t", tc.run, got.Run, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestFrom_Rejects: a ConfigMap that is not this group's history is an
// error naming what is wrong and the fix.
func TestFrom_Rejects(t *testing.T) {
	cm := func(name string, labels map[string]string, index string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Data: map[string]string{IndexKey: index}}
	}
	label := map[string]string{Label: "true"}
	for _, tc := range []struct {
		name string
		cm   *corev1.ConfigMap
		want string
	}{
		{name: "without the label",
			cm:   cm("autox-history-httpbin.iter8", nil, `{"group":"httpbin","spec":"iter8","entries":[]}`),
			want: "ConfigMap autox-system/autox-history-httpbin.iter8 is not the history of httpbin/iter8 (label autox.dev/history=true, name autox-history-httpbin.iter8): only autox writes histories; delete it"},
		{name: "under another name",
			cm:   cm("autox-history-shop.iter8", label, `{"group":"httpbin","spec":"iter8","entries":[]}`),
			want: "ConfigMap autox-system/autox-history-shop.iter8 is not the history of httpbin/iter8 (label autox.dev/history=true, name autox-history-httpbin.iter8): only autox writes histories; delete it"},
		{name: "another group's index",
			cm:   cm("autox-history-httpbin.iter8", label, `{"group":"shop","spec":"iter8","entries":[]}`),
			want: "ConfigMap autox-system/autox-history-httpbin.iter8 holds the history of shop/iter8, not httpbin/iter8; delete it"},
		{name: "an index that is not JSON",
			cm:   cm("autox-history-httpbin.iter8", label, `entries: []`),
			want: "ConfigMap autox-system/autox-history-httpbin.iter8: index.json is not a history index: invalid character 'e' looking for beginning of value; only autox writes histories: delete it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := From(tc.cm, "httpbin", "iter8")
			if err == nil {
				t.Fatalf("From = %+v; want an error", h.Index)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDecode_Rejects: only a gzipped result of this autox's format, at
// most inputfile.MaxResult bytes unzipped, is read.
func TestDecode_Rejects(t *testing.T) {
	bomb := gz(t, make([]byte, inputfile.MaxResult+1<<20))
	t.Logf("the bomb: %d bytes gzipped, %d unzipped", len(bomb), inputfile.MaxResult+1<<20)
	for _, tc := range []struct {
		name string
		gz   []byte
		want string
	}{
		{name: "not gzip", gz: []byte(`{"version":"autox.dev/result/v1"}`),
			want: "a history result is not gzip: gzip: invalid header"},
		{name: "a gzip bomb", gz: bomb,
			want: "a history result is more than 4194304 bytes unzipped"},
		{name: "not a result", gz: gz(t, []byte(`[1, 2]`)),
			want: "a history result is not a result: json: cannot unmarshal array into Go value of type result.Result"},
		{name: "another format", gz: gz(t, []byte(`{"version":"autox.dev/result/v0"}`)),
			want: `a history result has version "autox.dev/result/v0", this autox reads "autox.dev/result/v1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Decode(tc.gz)
			if err == nil {
				t.Fatalf("Decode = %+v; want an error", r)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// fourEndpoints is the result of a rate-limited load on four endpoints,
// 20000 requests each, with latencies spread from 1 ms to 2 s: full HDR
// histograms of latency and service time, as assess builds them.
func fourEndpoints(t *testing.T) *result.Result {
	t.Helper()
	spec, err := experiment.Parse([]byte(`
tasks: [http, assess]
http:
  qps: 200
  endpoints:
    get: {url: http://httpbin.default/get}
    post: {url: http://httpbin.default/post, payloadStr: hello}
    status: {url: http://httpbin.default/status/200}
    delay: {url: http://httpbin.default/delay/1}
assess:
  SLOs:
    upper: {http-get/latency-p99: 100, http-post/latency-mean: 50}
`), "params.experiment")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	f := &metrics.File{Task: "http", StartTime: t0, EndTime: t0.Add(time.Minute)}
	for _, name := range []string{"get", "post", "status", "delay"} {
		e := &metrics.Endpoint{Task: "http", Name: name, Target: "GET http://httpbin.default/" + name, RequestCount: 20000,
			StatusCodes: map[string]int64{"200": 20000}, Percentiles: []float64{50, 90, 99, 99.9}, DurationSeconds: 100, Rate: 200,
			Latency: metrics.NewHistogram(), ServiceTime: metrics.NewHistogram()}
		for range 20000 {
			// Log-uniform from 1 ms to 2 s: many distinct buckets.
			ms := (1 + rng.Float64()) * float64(int(1)<<rng.IntN(11))
			metrics.RecordLatency(e.Latency, time.Duration(ms*float64(time.Millisecond)))
			metrics.RecordLatency(e.ServiceTime, time.Duration(0.8*ms*float64(time.Millisecond)))
		}
		f.Endpoints = append(f.Endpoints, e)
	}
	dir := t.TempDir()
	if err := metrics.Write(metrics.PathFor(dir, "http"), f); err != nil {
		t.Fatal(err)
	}
	files, err := metrics.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return result.Build(spec, files, t0.Add(time.Minute))
}

// TestEncode_FourEndpointsFit: a four-endpoint result keeps its full
// histograms within MaxEntryBytes, and reads back as it was.
func TestEncode_FourEndpointsFit(t *testing.T) {
	r := fourEndpoints(t)
	if slices.ContainsFunc(r.Endpoints, func(e result.Endpoint) bool { return e.Latency == "" || e.ServiceTime == "" }) || len(r.Endpoints) != 4 {
		t.Fatalf("the fixture has %d endpoints, some without histograms; want 4 with both", len(r.Endpoints))
	}
	b, dropped, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("four endpoints, full histograms: %d bytes gzipped (MaxEntryBytes %d, MaxBytes %d)", len(b), MaxEntryBytes, MaxBytes)
	if len(dropped) > 0 || len(b) > MaxEntryBytes {
		t.Errorf("%d bytes gzipped, dropped %v; want at most %d, nothing dropped", len(b), dropped, MaxEntryBytes)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	// As JSON: the experiment in the result has unexported fields.
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(back)); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
}
