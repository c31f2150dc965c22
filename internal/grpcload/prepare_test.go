// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package grpcload

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
)

const (
	mainProto = `syntax = "proto3";
package routeguide;
import "point.proto";
import "google/protobuf/empty.proto";
service RouteGuide {
  rpc GetFeature(Point) returns (Point);
  rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty);
  rpc ListFeatures(Point) returns (stream Point);
  rpc RecordRoute(stream Point) returns (Point);
}
`
	pointProto = `syntax = "proto3";
package routeguide;
message Point {
  int32 latitude = 1;
  int32 longitude = 2;
}
`
)

// writeFiles writes name: content under dir, making folders.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// deadHost is a loopback address nobody listens on.
func deadHost(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

type prepared struct {
	Name            string
	ServerStreaming bool
	Data            string
	Files           []string
	Input           string
}

// summarize checks each endpoint's protoset the way ghz reads it (a set
// that builds on its own, imports first) and sums up what ghz gets.
func summarize(t *testing.T, eps []Endpoint) []prepared {
	t.Helper()
	var out []prepared
	for _, ep := range eps {
		var set descriptorpb.FileDescriptorSet
		if err := proto.Unmarshal(ep.Protoset, &set); err != nil {
			t.Fatalf("%s: protoset: %v", ep.Name, err)
		}
		files, err := protodesc.NewFiles(&set)
		if err != nil {
			t.Fatalf("%s: protoset does not build on its own: %v", ep.Name, err)
		}
		svc, method := splitCall(ep.Call)
		d, err := files.FindDescriptorByName(protoreflect.FullName(svc + "." + method))
		if err != nil {
			t.Fatalf("%s: method %s not in the protoset: %v", ep.Name, ep.Call, err)
		}
		md, ok := d.(protoreflect.MethodDescriptor)
		if !ok {
			t.Fatalf("%s: %s is a %T, not a method", ep.Name, ep.Call, d)
		}
		p := prepared{Name: ep.Name, ServerStreaming: ep.ServerStreaming, Data: string(ep.Data), Input: string(md.Input().FullName())}
		for _, f := range set.File {
			p.Files = append(p.Files, f.GetName())
		}
		out = append(out, p)
	}
	return out
}

// TestPrepareImportPathsFromTheExperimentFolder: importPaths inherited by
// two endpoints are taken from the experiment's folder once (issue 7: they
// came out exp/exp/protos), and each protoset carries the imports first.
func TestPrepareImportPathsFromTheExperimentFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	writeFiles(t, ".", map[string]string{
		"exp/main.proto":         mainProto,
		"exp/protos/point.proto": pointProto,
		"exp/list.json":          `{"latitude": 3}`,
		"exp/e.yaml": `
tasks: [grpc]
grpc:
  host: ` + deadHost(t) + `
  protoFile: main.proto
  importPaths: [protos]
  endpoints:
    get: {call: routeguide.RouteGuide.GetFeature, data: {latitude: 1}}
    list: {call: routeguide.RouteGuide.ListFeatures, dataFile: list.json}
    ping: {call: routeguide.RouteGuide.Ping}
    record: {call: routeguide.RouteGuide/RecordRoute, data: [{latitude: 1}, {longitude: 2}]}
`,
	})
	e, err := experiment.Load(filepath.Join("exp", "e.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	eps, err := Prepare(context.Background(), http.DefaultClient, e.GRPCEndpoints())
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	files := []string{"point.proto", "google/protobuf/empty.proto", "main.proto"}
	want := []prepared{
		{Name: "get", Data: `{"latitude":1}`, Files: files, Input: "routeguide.Point"},
		{Name: "list", ServerStreaming: true, Data: `{"latitude": 3}`, Files: files, Input: "routeguide.Point"},
		{Name: "ping", Files: files, Input: "google.protobuf.Empty"},
		{Name: "record", Data: `[{"latitude":1},{"longitude":2}]`, Files: files, Input: "routeguide.Point"},
	}
	if diff := cmp.Diff(want, summarize(t, eps)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Resolving did not touch the spec: a second Prepare sees the same.
	if _, err := Prepare(context.Background(), http.DefaultClient, e.GRPCEndpoints()); err != nil {
		t.Errorf("second Prepare: %v", err)
	}
}

// TestPrepareProtoURLWithImports: a proto fetched by URL finds its own
// imports through importPaths.
func TestPrepareProtoURLWithImports(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"served/main.proto": mainProto, "protos/point.proto": pointProto})
	files := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(dir, "served"))))
	defer files.Close()
	e, err := experiment.Parse([]byte("tasks: [grpc]\ngrpc: {host: "+deadHost(t)+", call: routeguide.RouteGuide.ListFeatures, protoURL: "+files.URL+"/main.proto, importPaths: ["+filepath.Join(dir, "protos")+"]}\n"), "x.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	eps, err := Prepare(context.Background(), files.Client(), e.GRPCEndpoints())
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	want := []prepared{{ServerStreaming: true, Files: []string{"point.proto", "google/protobuf/empty.proto", "main.proto"}, Input: "routeguide.Point"}}
	if diff := cmp.Diff(want, summarize(t, eps)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPrepareUnansweredReflection: without a proto and without a server,
// the endpoint gets a stand-in method (empty messages) and the reason.
func TestPrepareUnansweredReflection(t *testing.T) {
	host := deadHost(t)
	e, err := experiment.Parse([]byte("tasks: [grpc]\ngrpc: {host: "+host+", call: routeguide.RouteGuide.GetFeature, data: {latitude: 1}}\n"), "x.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	eps, err := Prepare(context.Background(), http.DefaultClient, e.GRPCEndpoints())
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	want := []prepared{{Files: []string{"autox-stand-in.proto"}, Input: "routeguide.AutoxStandIn"}}
	if diff := cmp.Diff(want, summarize(t, eps)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	wantWhy := "the server at " + host + " did not answer reflection (connection error: desc = \"transport: Error while dialing: dial tcp " + host + ": connect: connection refused\"), so calls were sent as empty messages"
	if diff := cmp.Diff(wantWhy, eps[0].Unresolved); diff != "" {
		t.Errorf("Unresolved (-want +got):\n%s", diff)
	}
}

func TestPrepareBadProtoAndData(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.proto":         mainProto,
		"protos/point.proto": pointProto,
		"broken.json":        "{\"latitude\": }\n",
	})
	host := deadHost(t)
	for _, tc := range []struct{ name, grpc, want string }{{
		name: "import not found",
		grpc: "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, protoFile: main.proto}",
		want: `grpc.protoFile: the proto does not compile: main.proto:3:8: open ` + filepath.Join(dir, "point.proto") + `: no such file or directory; fix it, or check it with protoc`,
	}, {
		name: "unknown field",
		grpc: "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, protoFile: main.proto, importPaths: [protos], data: {lat: 1}}",
		want: `grpc.data: does not match message routeguide.Point: unknown field "lat"; use the field names of the proto`,
	}, {
		name: "wrong type",
		grpc: "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, protoFile: main.proto, importPaths: [protos], data: {latitude: north}}",
		want: `grpc.data: does not match message routeguide.Point: invalid value for int32 field latitude: "north"; use the field names of the proto`,
	}, {
		name: "one item of a client stream",
		grpc: "{host: " + host + ", call: routeguide.RouteGuide.RecordRoute, protoFile: main.proto, importPaths: [protos], data: [{latitude: 1}, {lat: 2}]}",
		want: `grpc.data: does not match message routeguide.Point (item 1): unknown field "lat"; use the field names of the proto`,
	}, {
		name: "data file not JSON",
		grpc: "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, protoFile: main.proto, importPaths: [protos], dataFile: broken.json}",
		want: `grpc.dataFile: does not match message routeguide.Point: a syntax error at line 1, column 14; fix the JSON`,
	}, {
		name: "method not in the proto",
		grpc: "{host: " + host + ", call: routeguide.RouteGuide.Get, protoFile: main.proto, importPaths: [protos]}",
		want: `grpc.call: "routeguide.RouteGuide.Get": service routeguide.RouteGuide has no method Get; it has GetFeature, Ping, ListFeatures, RecordRoute`,
	}, {
		name: "service not in the proto",
		grpc: "{host: " + host + ", call: route.Guide.Get, protoFile: main.proto, importPaths: [protos]}",
		want: `grpc.call: "route.Guide.Get": no service route.Guide in "` + filepath.Join(dir, "main.proto") + `"; it has routeguide.RouteGuide`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, "e.yaml")
			if err := os.WriteFile(file, []byte("tasks: [grpc]\ngrpc: "+tc.grpc+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			e, err := experiment.Load(file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			_, err = Prepare(context.Background(), http.DefaultClient, e.GRPCEndpoints())
			if !badinput.Is(err) {
				t.Fatalf("Prepare = %v, want bad input", err)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestProtoMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"proto: (line 1:2): unknown field \"lat\"", `unknown field "lat"`},
		{"proto:\u00a0(line 1:2): unknown field \"lat\"", `unknown field "lat"`},
		{"proto: syntax error (line 1:14): unexpected token }", "syntax error: unexpected token }"},
		{"proto: something else", "something else"},
	} {
		if got := protoMessage(stringError(tc.in)); got != tc.want {
			t.Errorf("protoMessage(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type stringError string

func (e stringError) Error() string { return string(e) }
