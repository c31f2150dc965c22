// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package apitest is a small Kubernetes API server on loopback for tests
// of programs that talk to a cluster through client-go (cmd/ready,
// `autox run`): the discovery documents, list and watch of the objects it
// holds, and SelfSubjectAccessReviews that allow everything. Watches send
// the objects' current state, then stay open until the client leaves: an
// object that is not ready stays not ready, as on a real cluster.
package apitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// served is what the server serves, by group/version.
func served() map[string][]resource {
	return map[string][]resource{
		"v1":                      {{"services", "Service"}, {"pods", "Pod"}},
		"apps/v1":                 {{"deployments", "Deployment"}},
		"discovery.k8s.io/v1":     {{"endpointslices", "EndpointSlice"}},
		"authorization.k8s.io/v1": {{"selfsubjectaccessreviews", "SelfSubjectAccessReview"}},
	}
}

type resource struct{ name, kind string }

// Server is the API server.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	objects map[string][]map[string]any // by "<group/version>/<resource>"
	watches int
}

// Start serves on 127.0.0.1 until the test ends. objects are YAML-like
// maps (apiVersion, kind, metadata.name, metadata.namespace, ...).
func Start(t *testing.T, objects ...map[string]any) *Server {
	t.Helper()
	s := &Server{objects: map[string][]map[string]any{}}
	for _, o := range objects {
		gv, _ := o["apiVersion"].(string)
		kind, _ := o["kind"].(string)
		found := false
		for _, r := range served()[gv] {
			if r.kind == kind {
				s.objects[gv+"/"+r.name] = append(s.objects[gv+"/"+r.name], o)
				found = true
			}
		}
		if !found {
			t.Fatalf("apitest serves no %s %s", gv, kind)
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Watches is how many watches clients have opened so far.
func (s *Server) Watches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watches
}

// Kubeconfig writes a kubeconfig for the server (context "test",
// namespace ns) into dir and returns its path.
func (s *Server) Kubeconfig(t *testing.T, dir, ns string) string {
	t.Helper()
	p := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(p, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q}}]
users: [{name: test, user: {token: test-token}}]
contexts: [{name: test, context: {cluster: test, user: test, namespace: %s}}]
current-context: test
`, s.URL, ns)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/api":
		reply(w, map[string]any{"kind": "APIVersions", "versions": []string{"v1"}})
	case r.URL.Path == "/apis":
		var groups []map[string]any
		for gv := range served() {
			if g, v, ok := strings.Cut(gv, "/"); ok {
				version := map[string]any{"groupVersion": gv, "version": v}
				groups = append(groups, map[string]any{"name": g, "versions": []any{version}, "preferredVersion": version})
			}
		}
		reply(w, map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
	case len(parts) == 2 && parts[0] == "api", len(parts) == 3 && parts[0] == "apis":
		gv := strings.Join(parts[1:], "/")
		var list []map[string]any
		for _, res := range served()[gv] {
			list = append(list, map[string]any{"name": res.name, "kind": res.kind, "namespaced": res.name != "selfsubjectaccessreviews",
				"verbs": []string{"get", "list", "watch", "create"}})
		}
		if list == nil {
			http.NotFound(w, r)
			return
		}
		reply(w, map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list})
	case strings.HasSuffix(r.URL.Path, "/selfsubjectaccessreviews") && r.Method == http.MethodPost:
		// client-go sends it as protobuf; the answer may be JSON.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		review, ok := obj.(*authv1.SelfSubjectAccessReview)
		if err != nil || !ok {
			http.Error(w, fmt.Sprintf("not a SelfSubjectAccessReview: %v", err), http.StatusBadRequest)
			return
		}
		review.APIVersion, review.Kind = "authorization.k8s.io/v1", "SelfSubjectAccessReview"
		review.Status.Allowed = true
		replyStatus(w, http.StatusCreated, review)
	default:
		s.collection(w, r, parts)
	}
}

// collection lists or watches /api(s)/<gv>/namespaces/<ns>/<resource>.
func (s *Server) collection(w http.ResponseWriter, r *http.Request, parts []string) {
	first := 1
	if parts[0] == "apis" {
		first = 2
	}
	if len(parts) != first+4 || parts[first+1] != "namespaces" {
		http.NotFound(w, r)
		return
	}
	gv, ns, res := strings.Join(parts[1:first+1], "/"), parts[first+2], parts[first+3]
	kind := ""
	for _, x := range served()[gv] {
		if x.name == res {
			kind = x.kind
		}
	}
	if kind == "" {
		http.NotFound(w, r)
		return
	}
	items := s.match(gv+"/"+res, ns, r.URL.Query().Get("fieldSelector"), r.URL.Query().Get("labelSelector"))
	if r.URL.Query().Get("watch") != "true" {
		reply(w, map[string]any{"apiVersion": gv, "kind": kind + "List", "metadata": map[string]any{"resourceVersion": "1"}, "items": items})
		return
	}
	s.mu.Lock()
	s.watches++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for _, o := range items {
		if err := enc.Encode(map[string]any{"type": "MODIFIED", "object": o}); err != nil {
			return
		}
	}
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

// match returns the objects in ns that the selectors pick; it knows
// metadata.name=<name> and <label>=<value>[,...].
func (s *Server) match(key, ns, fieldSelector, labelSelector string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []map[string]any{}
	for _, o := range s.objects[key] {
		meta, _ := o["metadata"].(map[string]any)
		if meta["namespace"] != ns {
			continue
		}
		if name, ok := strings.CutPrefix(fieldSelector, "metadata.name="); ok && meta["name"] != name {
			continue
		}
		labels, _ := meta["labels"].(map[string]any)
		ok := true
		for _, term := range strings.Split(labelSelector, ",") {
			if k, v, found := strings.Cut(term, "="); found && labels[k] != v {
				ok = false
			}
		}
		if ok {
			items = append(items, o)
		}
	}
	return items
}

func reply(w http.ResponseWriter, v any) { replyStatus(w, http.StatusOK, v) }

func replyStatus(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v) // a client that left needs no answer
}
