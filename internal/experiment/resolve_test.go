// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestGRPCMergeTopLevelIntoEndpoints(t *testing.T) {
	e, err := Parse([]byte(`
tasks: [grpc]
grpc:
  host: 127.0.0.1:50051
  call: routeguide.RouteGuide.GetFeature
  protoFile: protos/route_guide.proto
  importPaths: [protos, third_party]
  data: {latitude: 1}
  metadata: {a: top, b: top}
  duration: 10s
  rps: 2.5
  concurrency: 8
  connections: 2
  timeout: 500ms
  insecure: false
  skipFirst: 3
  warmupNumRequests: 10
  percentiles: [99.99]
  endpoints:
    inherit: {}
    own:
      host: 127.0.0.1:50052
      call: routeguide.RouteGuide/ListFeatures
      protoURL: http://127.0.0.1:1/route_guide.proto
      importPaths: [other]
      dataFile: server.json
      metadata: {b: own}
      numRequests: 30
      rps: unlimited
      concurrency: 4
      connections: 4
      timeout: 2s
      insecure: true
      warmupDuration: 2s
      percentiles: [12.5]
    few:
      total: 5
      connections: 1
      cacert: other.pem
`), "t.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	pct := []float64{50, 75, 90, 95, 99, 99.9, 99.99}
	want := []GRPCEndpoint{{
		Name: "few", Path: "grpc.endpoints.few",
		// total 5 replaces the top level's duration; concurrency 8 lowered to 5.
		Traffic:   Traffic{Count: 5, Rate: 2.5, Workers: 5, Timeout: 500 * time.Millisecond, WarmupCount: 10, Percentiles: pct},
		Host:      "127.0.0.1:50051",
		Call:      "routeguide.RouteGuide.GetFeature",
		ProtoFile: "protos/route_guide.proto", ImportPaths: []string{"protos", "third_party"},
		DataJSON: []byte(`{"latitude":1}`), Metadata: map[string]string{"a": "top", "b": "top"},
		Connections: 1, CACert: "other.pem", SkipFirst: 3,
	}, {
		Name: "inherit", Path: "grpc.endpoints.inherit",
		Traffic:   Traffic{Duration: 10 * time.Second, Rate: 2.5, Workers: 8, Timeout: 500 * time.Millisecond, WarmupCount: 10, Percentiles: pct},
		Host:      "127.0.0.1:50051",
		Call:      "routeguide.RouteGuide.GetFeature",
		ProtoFile: "protos/route_guide.proto", ImportPaths: []string{"protos", "third_party"},
		DataJSON: []byte(`{"latitude":1}`), Metadata: map[string]string{"a": "top", "b": "top"},
		Connections: 2, SkipFirst: 3,
	}, {
		Name: "own", Path: "grpc.endpoints.own",
		Traffic:  Traffic{Count: 30, Rate: 0, Workers: 4, Timeout: 2 * time.Second, WarmupDuration: 2 * time.Second, Percentiles: []float64{12.5, 50, 75, 90, 95, 99, 99.9, 99.99}},
		Host:     "127.0.0.1:50052",
		Call:     "routeguide.RouteGuide/ListFeatures",
		ProtoURL: "http://127.0.0.1:1/route_guide.proto", ImportPaths: []string{"other"},
		DataFile: "server.json", Metadata: map[string]string{"a": "top", "b": "own"},
		Connections: 4, Insecure: true, SkipFirst: 3,
	}}
	if diff := cmp.Diff(want, e.GRPCEndpoints()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGRPCDefaults(t *testing.T) {
	e, err := Parse([]byte("tasks: [grpc]\ngrpc: {host: h:1, call: a.B.C}\n"), "t.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []GRPCEndpoint{{
		Path:    "grpc",
		Traffic: Traffic{Count: 200, Workers: 50, Timeout: 20 * time.Second, Percentiles: DefaultPercentiles},
		Host:    "h:1", Call: "a.B.C", Metadata: map[string]string{}, Connections: 1, Insecure: true,
	}}
	if diff := cmp.Diff(want, e.GRPCEndpoints()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestResolvingLeavesSpecUnchanged: resolving (Load) and handing out
// endpoints, however often and whatever the caller does with them, leaves
// the spec that result.json records as the file wrote it, and relative
// paths are taken from the experiment's folder once.
func TestResolvingLeavesSpecUnchanged(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir("exp", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("exp", "e.yaml"), []byte(`
tasks: [http, grpc]
http:
  url: http://127.0.0.1:1/
  payloadFile: body.json
  headers: {A: top}
  errorRanges: [{lower: 500}]
  percentiles: [99.99]
  endpoints: {a: {}, b: {}}
grpc:
  host: 127.0.0.1:1
  call: a.B.C
  protoFile: protos/x.proto
  importPaths: [protos]
  dataFile: data.json
  metadata: {m: top}
  endpoints: {a: {}, b: {}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := Load(filepath.Join("exp", "e.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	spec := func() string {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	before := spec()
	type paths struct{ ProtoFile, DataFile, PayloadFile, ImportPaths string }
	var got []paths
	for range 2 {
		for _, ep := range e.GRPCEndpoints() {
			got = append(got, paths{ProtoFile: ep.ProtoFile, DataFile: ep.DataFile, ImportPaths: filepath.Join(ep.ImportPaths...)})
		}
		for _, ep := range e.HTTPEndpoints() {
			got = append(got, paths{PayloadFile: ep.PayloadFile})
		}
	}
	g := paths{ProtoFile: "exp/protos/x.proto", DataFile: "exp/data.json", ImportPaths: "exp/protos"}
	h := paths{PayloadFile: "exp/body.json"}
	if diff := cmp.Diff([]paths{g, g, h, h, g, g, h, h}, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, spec()); diff != "" {
		t.Errorf("spec after resolving (-before +after):\n%s", diff)
	}
	want := `{"tasks":["http","grpc"],` +
		`"http":{"url":"http://127.0.0.1:1/","payloadFile":"body.json","headers":{"A":"top"},"errorRanges":[{"lower":500}],"percentiles":[99.99],"endpoints":{"a":{},"b":{}}},` +
		`"grpc":{"host":"127.0.0.1:1","call":"a.B.C","protoFile":"protos/x.proto","importPaths":["protos"],"dataFile":"data.json","metadata":{"m":"top"},"endpoints":{"a":{},"b":{}}}}`
	if diff := cmp.Diff(want, spec()); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}

	// What a caller does with the endpoints it was given stays with it.
	for _, ep := range e.GRPCEndpoints() {
		ep.ImportPaths[0] = "changed"
		ep.Metadata["m"] = "changed"
		ep.Percentiles[0] = 1
		ep.DataJSON = append(ep.DataJSON[:0], 'x')
	}
	for _, ep := range e.HTTPEndpoints() {
		ep.Headers["A"] = "changed"
		*ep.ErrorRanges[0].Lower = 100
		ep.Percentiles[0] = 1
	}
	if diff := cmp.Diff(want, spec()); diff != "" {
		t.Errorf("spec after callers changed their endpoints (-want +got):\n%s", diff)
	}
	hep, gep := e.HTTPEndpoints()[0], e.GRPCEndpoints()[0]
	type kept struct {
		Header, Metadata, ImportPath string
		Lower                        int
		HTTPP, GRPCP                 float64
	}
	if diff := cmp.Diff(kept{"top", "top", "exp/protos", 500, 50, 50}, kept{hep.Headers["A"], gep.Metadata["m"], gep.ImportPaths[0], *hep.ErrorRanges[0].Lower, hep.Percentiles[0], gep.Percentiles[0]}); diff != "" {
		t.Errorf("endpoints after callers changed theirs (-want +got):\n%s", diff)
	}
}

func TestMetricPrefix(t *testing.T) {
	e, err := Parse([]byte("tasks: [http, grpc]\nhttp: {url: http://a/}\ngrpc: {host: h:1, call: a.B.C, endpoints: {get: {}}}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{e.HTTPEndpoints()[0].MetricPrefix(), e.GRPCEndpoints()[0].MetricPrefix(), MetricPrefix(TaskHTTP, "x"), MetricPrefix(TaskGRPC, "")}
	if diff := cmp.Diff([]string{"http", "grpc-get", "http-x", "grpc"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
