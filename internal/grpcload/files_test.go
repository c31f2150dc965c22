// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package grpcload

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/test/apps/routeguide/app"
)

// rooted is a step's root (protos, data and a link out) and a secret
// beside it; Files allow the root only.
func rooted(t *testing.T) (root, secret string, files *experiment.Files) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "data")
	secret = filepath.Join(dir, "token")
	writeFiles(t, dir, map[string]string{
		"token":                   "eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJzdWIiOiJzYTpkZWZhdWx0In0.c2lnbmF0dXJl",
		"outside/point.proto":     pointProto,
		"data/main.proto":         mainProto,
		"data/protos/point.proto": pointProto,
		"data/get.json":           `{"latitude": 7}`,
	})
	if err := os.Symlink("../../outside/point.proto", filepath.Join(root, "point-link.proto")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "linked"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../outside/point.proto", filepath.Join(root, "linked", "point.proto")); err != nil {
		t.Fatal(err)
	}
	files, err := experiment.NewFiles([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	return root, secret, files
}

// TestPrepareWithinRoots: in a Task, every file is read from the roots,
// relative paths from the first; a file outside is refused before any
// document is fetched or any server asked.
func TestPrepareWithinRoots(t *testing.T) {
	root, secret, files := rooted(t)
	var fetched atomic.Int64
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Write([]byte(`{"latitude": 1}`))
	}))
	defer docs.Close()
	host := deadHost(t)
	outside := " is outside the files the step may read (" + root + "); put the file in the experiment's workspace data"
	for _, tc := range []struct {
		name, grpc string
		want       []prepared
		wantErr    string
	}{{
		name: "relative paths, from the root",
		grpc: "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, protoFile: main.proto, importPaths: [protos], dataFile: get.json}",
		want: []prepared{{Data: `{"latitude": 7}`, Files: []string{"point.proto", "google/protobuf/empty.proto", "main.proto"}, Input: "routeguide.Point"}},
	}, {
		name:    "the pod's token as data; the other endpoint's dataURL is not fetched",
		grpc:    "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, protoFile: main.proto, importPaths: [protos], endpoints: {a: {dataURL: " + docs.URL + "/a.json}, b: {dataFile: /var/run/secrets/kubernetes.io/serviceaccount/token}}}",
		wantErr: `grpc.endpoints.b.dataFile: "/var/run/secrets/kubernetes.io/serviceaccount/token"` + outside,
	}, {
		name:    "a proto outside",
		grpc:    "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, protoFile: " + secret + "}",
		wantErr: `grpc.protoFile: "` + secret + `"` + outside,
	}, {
		name:    "an import path out through '..'",
		grpc:    "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, protoFile: main.proto, importPaths: [../outside]}",
		wantErr: `grpc.importPaths[0]: "../outside"` + outside,
	}, {
		name:    "an import that is a link out",
		grpc:    "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, protoFile: main.proto, importPaths: [linked]}",
		wantErr: `grpc.protoFile: the proto does not compile: main.proto:3:8: open ` + filepath.Join(root, "linked", "point.proto") + `: leads outside the files the step may read (` + root + `) through a symbolic link; fix it, or check it with protoc`,
	}, {
		name:    "a proto that is a link out",
		grpc:    "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, protoFile: point-link.proto}",
		wantErr: `grpc.protoFile: "point-link.proto" leads outside the files the step may read (` + root + `) through a symbolic link; put the file itself in the experiment's workspace data`,
	}, {
		name:    "a CA file outside",
		grpc:    "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, insecure: false, cacert: /etc/ssl/certs/ca-certificates.crt}",
		wantErr: `grpc.cacert: "/etc/ssl/certs/ca-certificates.crt"` + outside,
	}, {
		name:    "a CA file that holds no certificate",
		grpc:    "{host: " + host + ", call: routeguide.RouteGuide.GetFeature, insecure: false, cacert: get.json}",
		wantErr: `grpc.cacert: "get.json" holds no PEM certificate; give the CA certificate's PEM file`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			fetched.Store(0)
			// As the Task gives it: text, so relative paths stay relative.
			e, err := experiment.Parse([]byte("tasks: [grpc]\ngrpc: "+tc.grpc+"\n"), "params.experiment")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			eps, err := PrepareWithin(context.Background(), docs.Client(), files, e.GRPCEndpoints())
			got := ""
			if err != nil {
				got = err.Error()
				if !badinput.Is(err) {
					t.Errorf("error %v is not bad input", err)
				}
			}
			if diff := cmp.Diff(tc.wantErr, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if err == nil {
				if diff := cmp.Diff(tc.want, summarize(t, eps)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
			if n := fetched.Load(); n != 0 {
				t.Errorf("%d documents fetched, want none", n)
			}
		})
	}
}

// TestDataErrorsQuoteNothingOfTheFile: a dataFile that is not the
// message is told by line and column, never by what it holds (here a
// token, which protojson would quote).
func TestDataErrorsQuoteNothingOfTheFile(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJzdWIiOiJzYTpkZWZhdWx0In0"
	dir := t.TempDir()
	host := deadHost(t)
	for _, tc := range []struct{ name, call, data, want string }{{
		name: "a bare token",
		call: "GetFeature",
		data: token + "\n",
		want: `grpc.dataFile: does not match message routeguide.Point: a syntax error at line 1, column 1; fix the JSON`,
	}, {
		name: "a token as a value",
		call: "GetFeature",
		data: "{\n  \"latitude\": \"" + token + "\"\n}\n",
		want: `grpc.dataFile: does not match message routeguide.Point: invalid value for int32 field latitude at line 2, column 15; give each field a value of its type in the proto`,
	}, {
		name: "a token as a field name",
		call: "GetFeature",
		data: `  {"latitude": 1, "` + token + `": 2}`,
		want: `grpc.dataFile: does not match message routeguide.Point: an unknown field at line 1, column 19; use the field names of the proto`,
	}, {
		name: "a token in the second item of a client stream",
		call: "RecordRoute",
		data: "[\n  {\"latitude\": 1},\n  {\"" + token + "\": 2}\n]\n",
		want: `grpc.dataFile: does not match message routeguide.Point (item 1): an unknown field at line 3, column 4; use the field names of the proto`,
	}, {
		name: "a list broken by a token",
		call: "RecordRoute",
		data: "[{\"latitude\": 1}, " + token + "]",
		want: `grpc.dataFile: is not a JSON list of routeguide.Point messages: a syntax error at line 1, column 19; fix the JSON`,
	}, {
		name: "a field given twice",
		call: "GetFeature",
		data: `{"latitude": 1, "latitude": 2}`,
		want: `grpc.dataFile: does not match message routeguide.Point: a field given twice at line 1, column 17; give each field once`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			writeFiles(t, dir, map[string]string{"main.proto": mainProto, "protos/point.proto": pointProto, "data.json": tc.data})
			e, err := experiment.Parse([]byte("tasks: [grpc]\ngrpc: {host: "+host+", call: routeguide.RouteGuide."+tc.call+", protoFile: "+dir+"/main.proto, importPaths: ["+dir+"/protos], dataFile: "+dir+"/data.json}\n"), "x.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = Prepare(context.Background(), http.DefaultClient, e.GRPCEndpoints())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if strings.Contains(got, "eyJ") {
				t.Errorf("the message quotes the file: %s", got)
			}
		})
	}
}

// TestTLSWithCACertFromRoot: the CA file is read within the roots, and
// both reflection and ghz (which is handed a copy of its bytes) verify
// the server with it.
func TestTLSWithCACertFromRoot(t *testing.T) {
	root, _, files := rooted(t)
	cert, caPEM := selfSigned(t)
	writeFiles(t, root, map[string]string{"ca.pem": string(caPEM)})
	s, host := startRouteGuideWith(t, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	e, err := experiment.Parse([]byte("tasks: [grpc]\ngrpc: {host: "+host+", call: routeguide.RouteGuide.GetFeature, insecure: false, cacert: ca.pem, total: 30, concurrency: 3, data: {latitude: 1}}\n"), "params.experiment")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	eps, err := PrepareWithin(context.Background(), http.DefaultClient, files, e.GRPCEndpoints())
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if eps[0].Unresolved != "" {
		t.Fatalf("reflection over TLS failed: %s", eps[0].Unresolved)
	}
	w := &Work{Endpoints: eps, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)), ProgressEvery: time.Second}
	f, err := w.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	type counts struct{ Requests, Errors, Server int64 }
	got := counts{f.Endpoints[0].RequestCount, f.Endpoints[0].ErrorCount, s.Count("GetFeature")}
	if diff := cmp.Diff(counts{30, 0, 30}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// selfSigned is a certificate for 127.0.0.1 that is its own CA.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// startRouteGuideWith serves the sample routeguide on loopback with the
// server options opts (TLS).
func startRouteGuideWith(t *testing.T, opts ...grpc.ServerOption) (*app.Server, string) {
	t.Helper()
	s, addr, err := app.Start("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.GRPC.Stop)
	return s, addr
}
