// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/decide"
)

// TestPipelineFor: a run whose load is spread over pods runs
// autox-workers, any other autox; an experiment that does not parse runs
// autox, whose ready step says why.
func TestPipelineFor(t *testing.T) {
	for _, tc := range []struct {
		name, experiment string
		want             string
		wantNote         bool
	}{
		{"no workers", "tasks: [ready, http, assess]\nready: {deploy: httpbin}\nhttp: {url: http://httpbin.default/get}\n", "autox", false},
		{"one worker", "tasks: [http, assess]\nhttp: {url: http://httpbin.default/get, workers: 1}\n", "autox", false},
		{"http workers", "tasks: [ready, http, assess]\nready: {deploy: httpbin, service: httpbin}\nhttp: {url: http://httpbin.default/get, numRequests: 100, workers: 4}\n", "autox-workers", false},
		{"grpc workers", "tasks: [grpc, assess]\ngrpc: {host: hello.default:50051, call: helloworld.Greeter.SayHello, protoURL: https://example.com/hello.proto, total: 100, workers: 2}\n", "autox-workers", false},
		{"workers of a task not run", "tasks: [grpc, assess]\ngrpc: {host: hello.default:50051, call: helloworld.Greeter.SayHello, protoURL: https://example.com/hello.proto}\nhttp: {url: http://httpbin.default/get, workers: 4}\n", "autox", false},
		{"does not parse", "tasks: [http]\nhttp: {url: http://httpbin.default/get, workers: 0}\n", "autox", true},
		{"not YAML", "{", "autox", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, note := PipelineFor(tc.experiment)
			if got != tc.want || (note != "") != tc.wantNote {
				t.Errorf("PipelineFor = %q, note %q; want %q, a note %v", got, note, tc.want, tc.wantNote)
			}
		})
	}
}

// TestProcess_WorkersPipeline: a Trigger whose experiment has workers
// launches its runs on autox-workers; the decision is otherwise the same.
func TestProcess_WorkersPipeline(t *testing.T) {
	f := newFixture(t)
	workers := strings.Replace(httpbinTrigger, `http: {url: "http://httpbin.default/get"}`, `ready: {deploy: httpbin}, http: {url: "http://httpbin.default/get", numRequests: 1000, workers: 4}`, 1)
	if workers == httpbinTrigger {
		t.Fatal("the Trigger's experiment was not changed")
	}
	f.interceptor.Groups = groupsOf(t, workers)
	f.objects.cached, f.objects.live, f.objects.synced = dep("2.0.0"), dep("2.0.0"), true
	got := f.interceptor.Process(context.Background(), request(body(t, "update", "autox-httpbin-iter8", "2.0.0")))
	want := launched("2.0.0", 1)
	ext := want.Extensions["autox"].(contract.Extensions)
	ext.Pipeline = "autox-workers"
	ext.Experiment = "http:\n  numRequests: 1000\n  url: http://httpbin.default/get\n  workers: 4\nready:\n  deploy: httpbin\ntasks:\n- ready\n- http\n- assess\n"
	want.Extensions["autox"] = ext
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

// TestProcess_ObjectReadBeforeTheRecord: a request read the object live
// (1.0.0) before another launched 2.0.0 from a newer read and wrote the
// record; deciding 1.0.0 against that record would cancel 2.0.0 and
// launch 1.0.0 again (seen in TestTriggerRaces: 50 events while the
// label changed). The object is read again after the record: 2.0.0 is
// running, nothing to do.
func TestProcess_ObjectReadBeforeTheRecord(t *testing.T) {
	f := newFixture(t)
	f.objects.cached, f.objects.live, f.objects.synced = dep("1.0.0"), dep("1.0.0"), true
	f.objects.then = []decide.Object{dep("2.0.0")}
	f.records.rec = &StoredRecord{Record: contract.Record{Group: "httpbin", Spec: "iter8", Trigger: "autox-httpbin-iter8", TriggerUID: "tr-1", Seq: 2, Runs: []contract.Entry{
		{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Hour), RunUID: "r1", State: contract.Succeeded},
		{Seq: 2, Run: run(2), Version: "2.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Second), RunUID: "r2", State: contract.Running},
	}}, UID: "rec-1", ResourceVersion: "1"}
	f.records.rv = 1
	// The event claims 2.0.0, the cache says 1.0.0: the first GET says
	// 1.0.0 (before the label changed), the record already has 2.0.0.
	got := f.interceptor.Process(context.Background(), request(body(t, "update", "autox-httpbin-iter8", "2.0.0")))
	if got.Continue {
		t.Fatalf("launched %+v; want nothing (2.0.0 is running)", got.Extensions)
	}
	if len(f.canceller.cancelled) != 0 {
		t.Errorf("cancelled %v; want nothing", f.canceller.cancelled)
	}
	if f.objects.liveReads != 2 {
		t.Errorf("%d live reads, want 2 (the second after the record)", f.objects.liveReads)
	}
	latest, _ := f.records.rec.Latest()
	if latest.Version != "2.0.0" || latest.Seq != 2 {
		t.Errorf("the record's latest is %+v; want 2.0.0, seq 2, unchanged", latest)
	}
}
