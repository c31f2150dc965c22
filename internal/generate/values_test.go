// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary is what a test needs to see of the output: the objects in
// order, and each Trigger's trigger object and experiment.
type summary struct {
	Objects     []string
	Triggers    map[string]any
	Experiments map[string]any
}

func summarize(t *testing.T, out []byte) summary {
	t.Helper()
	d := decode(t, out)
	s := summary{Objects: d.kinds, Triggers: map[string]any{}, Experiments: map[string]any{}}
	for _, tr := range d.triggers {
		var obj, exp any
		if err := json.Unmarshal(param(tr, "trigger"), &obj); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(param(tr, "experiment"), &exp); err != nil {
			t.Fatal(err)
		}
		s.Triggers[tr.Name] = obj
		s.Experiments[tr.Name] = exp
	}
	return s
}

func TestValues(t *testing.T) {
	dir := t.TempDir()
	write := func(name, yaml string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("base.yaml", `
groups:
  httpbin:
    trigger: {name: httpbin, namespace: default, group: apps, version: v1, resource: deployments}
    specs:
      iter8:
        values:
          tasks: [http]
          http: {url: "http://httpbin.default/get", numRequests: 100}
`)
	override := write("override.yaml", `
groups:
  httpbin:
    specs:
      iter8:
        values:
          http: {numRequests: 300, qps: 20.5}
`)
	parent := write("parent.yaml", `
autox:
  groups:
    web:
      trigger: {name: web, namespace: shop, version: v1, resource: services}
      specs:
        smoke: {values: {tasks: [http], http: {url: "http://web.shop/"}}}
`)
	obj := func(name, ns, group, resource string) map[string]any {
		return map[string]any{"name": name, "namespace": ns, "group": group, "version": "v1", "resource": resource}
	}
	httpbin := obj("httpbin", "default", "apps", "deployments")
	for _, tc := range []struct {
		name      string
		args      []string
		want      summary
		wantNotes []string
	}{{
		name: "files merge in order, --set wins over them and over earlier --set",
		args: []string{"-f", base, "--set", "groups.httpbin.specs.iter8.values.http.numRequests=400", "-f", override,
			"--set", "groups.httpbin.specs.iter8.values.http.numRequests=500,groups.httpbin.specs.iter8.values.http.connections=2"},
		want: summary{
			Objects:     []string{"Trigger autox-httpbin-iter8", "RoleBinding default/autox-watched", "RoleBinding default/autox-ready"},
			Triggers:    map[string]any{"autox-httpbin-iter8": httpbin},
			Experiments: map[string]any{"autox-httpbin-iter8": map[string]any{"tasks": []any{"http"}, "http": map[string]any{"url": "http://httpbin.default/get", "numRequests": 500.0, "qps": 20.5, "connections": 2.0}}},
		},
	}, {
		name: "null removes a key",
		args: []string{"-f", override, "-f", base, "--set", "groups.httpbin.specs.iter8.values.http.numRequests=null"},
		want: summary{
			Objects:     []string{"Trigger autox-httpbin-iter8", "RoleBinding default/autox-watched", "RoleBinding default/autox-ready"},
			Triggers:    map[string]any{"autox-httpbin-iter8": httpbin},
			Experiments: map[string]any{"autox-httpbin-iter8": map[string]any{"tasks": []any{"http"}, "http": map[string]any{"url": "http://httpbin.default/get", "qps": 20.5}}},
		},
	}, {
		name: "a parent chart's prefix, in a file and in --set, core API group",
		args: []string{"-f", parent, "--set", "autox.groups.web.specs.load.values.tasks={http},autox.groups.web.specs.load.values.http.url=http://web.shop/x",
			"--set", "umbrella.autox.groups.web.specs.load.values.http.numRequests=7"},
		want: summary{
			Objects:  []string{"Trigger autox-web-load", "Trigger autox-web-smoke", "ClusterRole autox-watched-services", "RoleBinding shop/autox-watched", "RoleBinding shop/autox-ready"},
			Triggers: map[string]any{"autox-web-load": obj("web", "shop", "", "services"), "autox-web-smoke": obj("web", "shop", "", "services")},
			Experiments: map[string]any{
				"autox-web-load":  map[string]any{"tasks": []any{"http"}, "http": map[string]any{"url": "http://web.shop/x", "numRequests": 7.0}},
				"autox-web-smoke": map[string]any{"tasks": []any{"http"}, "http": map[string]any{"url": "http://web.shop/"}},
			},
		},
		wantNotes: []string{
			`ignoring "autox." before groups (the values of a parent chart); autox reads groups.<group>... as they are`,
			`ignoring "umbrella.autox." before groups (the values of a parent chart); autox reads groups.<group>... as they are`,
		},
	}, {
		name: "groups and specs sorted, one RoleBinding per namespace, sorted",
		args: []string{
			"--set", "groups.zeta.trigger.name=z,groups.zeta.trigger.namespace=team-b,groups.zeta.trigger.group=apps,groups.zeta.trigger.version=v1,groups.zeta.trigger.resource=deployments",
			"--set", "groups.zeta.specs.b.values.tasks={http},groups.zeta.specs.b.values.http.url=http://z/",
			"--set", "groups.zeta.specs.a.values.tasks={http},groups.zeta.specs.a.values.http.url=http://z/",
			"--set", "groups.alpha.trigger.name=a,groups.alpha.trigger.namespace=team-a,groups.alpha.trigger.group=apps,groups.alpha.trigger.version=v1,groups.alpha.trigger.resource=deployments",
			"--set", "groups.alpha.specs.x.values.tasks={http},groups.alpha.specs.x.values.http.url=http://a/",
			"--set", "groups.mid.trigger.name=m,groups.mid.trigger.namespace=team-b,groups.mid.trigger.group=apps,groups.mid.trigger.version=v1,groups.mid.trigger.resource=statefulsets",
			"--set", "groups.mid.specs.x.values.tasks={http},groups.mid.specs.x.values.http.url=http://m/",
		},
		want: summary{
			Objects: []string{"Trigger autox-alpha-x", "Trigger autox-mid-x", "Trigger autox-zeta-a", "Trigger autox-zeta-b",
				"ClusterRole autox-watched-statefulsets.apps", "RoleBinding team-a/autox-watched", "RoleBinding team-a/autox-ready", "RoleBinding team-b/autox-watched", "RoleBinding team-b/autox-ready"},
			Triggers: map[string]any{
				"autox-alpha-x": obj("a", "team-a", "apps", "deployments"), "autox-mid-x": obj("m", "team-b", "apps", "statefulsets"),
				"autox-zeta-a": obj("z", "team-b", "apps", "deployments"), "autox-zeta-b": obj("z", "team-b", "apps", "deployments"),
			},
			Experiments: map[string]any{
				"autox-alpha-x": map[string]any{"tasks": []any{"http"}, "http": map[string]any{"url": "http://a/"}},
				"autox-mid-x":   map[string]any{"tasks": []any{"http"}, "http": map[string]any{"url": "http://m/"}},
				"autox-zeta-a":  map[string]any{"tasks": []any{"http"}, "http": map[string]any{"url": "http://z/"}},
				"autox-zeta-b":  map[string]any{"tasks": []any{"http"}, "http": map[string]any{"url": "http://z/"}},
			},
		},
	}, {
		name: "values that read as other types stay strings",
		args: []string{"--set", "groups.g.trigger.name=007,groups.g.trigger.namespace=123,groups.g.trigger.version=v1,groups.g.trigger.resource=pods",
			"--set", "groups.g.specs.s.values.tasks={http},groups.g.specs.s.values.http.url=http://g/,groups.g.specs.s.values.http.qps=0.5,groups.g.specs.s.values.http.headers.x=true,groups.g.specs.s.values.http.payloadStr="},
		want: summary{
			Objects:     []string{"Trigger autox-g-s", "ClusterRole autox-watched-pods", "RoleBinding 123/autox-watched", "RoleBinding 123/autox-ready"},
			Triggers:    map[string]any{"autox-g-s": obj("007", "123", "", "pods")},
			Experiments: map[string]any{"autox-g-s": map[string]any{"tasks": []any{"http"}, "http": map[string]any{"url": "http://g/", "qps": "0.5", "headers": map[string]any{"x": true}, "payloadStr": ""}}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, notes, err := FromArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, summarize(t, out)); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantNotes, notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
			for range 5 {
				again, _, err := FromArgs(tc.args)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(out), string(again)); diff != "" {
					t.Fatalf("a second run differs (-first +second):\n%s", diff)
				}
			}
		})
	}
}
