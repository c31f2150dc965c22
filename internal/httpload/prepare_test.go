// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package httpload

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
)

// TestPrepare: payloads from a file (relative to the experiment) and a
// URL; every problem is bad input, each named by its field.
func TestPrepare(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.json"), []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/payload" {
			http.NotFound(w, r)
			return
		}
		if _, err := w.Write([]byte("from-url")); err != nil {
			t.Errorf("payload server: %v", err)
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/payload"
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}

	write := func(yaml string) string {
		p := filepath.Join(dir, "exp.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("file relative to the experiment and URL", func(t *testing.T) {
		e, err := experiment.Load(write("tasks: [http]\nhttp:\n  endpoints:\n    f: {url: http://a/, payloadFile: body.json}\n    u: {url: http://a/, payloadURL: " + srv.URL + "/payload}\n"))
		if err != nil {
			t.Fatal(err)
		}
		eps, err := Prepare(context.Background(), srv.Client(), e.HTTPEndpoints())
		if err != nil {
			t.Fatal(err)
		}
		got := []string{string(eps[0].Payload), string(eps[1].Payload), eps[0].Method}
		if diff := cmp.Diff([]string{`{"a":1}`, "from-url", "POST"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("missing file, unreachable and failing URLs", func(t *testing.T) {
		e, err := experiment.Load(write("tasks: [http]\nhttp:\n  endpoints:\n    f: {url: http://a/, payloadFile: nope.json}\n    u: {url: http://a/, payloadURL: " + dead + "}\n    v: {url: http://a/, payloadURL: " + srv.URL + "/missing}\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Prepare(context.Background(), srv.Client(), e.HTTPEndpoints())
		if !badinput.Is(err) {
			t.Fatalf("Prepare = %v, want bad input", err)
		}
		want := []string{
			`http.endpoints.f.payloadFile: cannot read "` + filepath.Join(dir, "nope.json") + `": no such file or directory; give a path relative to the experiment file, or an absolute one`,
			`http.endpoints.u.payloadURL: cannot fetch "` + dead + `": dial tcp ` + strings.TrimPrefix(strings.TrimSuffix(dead, "/payload"), "http://") + `: connect: connection refused; check the URL is reachable from where the step runs`,
			`http.endpoints.v.payloadURL: fetching "` + srv.URL + `/missing" returned 404 Not Found; check the URL`,
		}
		if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
