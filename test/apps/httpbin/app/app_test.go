// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCounts(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	counts := func() map[string]int64 {
		t.Helper()
		resp := get("/counts")
		defer resp.Body.Close()
		var m map[string]int64
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if diff := cmp.Diff(map[string]int64{}, counts()); diff != "" {
		t.Errorf("counts before any request (-want +got):\n%s", diff)
	}
	for _, p := range []string{"/get", "/get", "/anything/x", "/status/503"} {
		get(p).Body.Close()
	}
	want := map[string]int64{"/get": 2, "/anything/x": 1, "/status/503": 1}
	if diff := cmp.Diff(want, counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}
