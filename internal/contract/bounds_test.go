// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package contract

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// event is the watcher's event about httpbin with the given version label
// and kind, as JSON text.
func event(kind, version string) string {
	return `{"type":"update","trigger":"autox-httpbin-iter8","object":{"apiVersion":"apps/v1","kind":"` + kind +
		`","metadata":{"name":"httpbin","namespace":"default","labels":{"app.kubernetes.io/version":"` + version + `"}}}}`
}

// TestParseEventRefusesWhatNoClusterHolds: an event is refused, in one
// line, when more follows its JSON, or when its object's version, name or
// namespace could not be set as a run's labels.
func TestParseEventRefusesWhatNoClusterHolds(t *testing.T) {
	const rule = "is not a valid label value (at most 63 characters: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit)"
	long := strings.Repeat("a", 100_000)
	for _, tc := range []struct{ name, body, want string }{
		{"one object and white space", event("Deployment", "2.0.0") + " \n", ""},
		{"trailing garbage", event("Deployment", "2.0.0") + "garbage", "body: more follows the JSON object, which ends at byte 202; send one object"},
		{"two objects", event("Deployment", "2.0.0") + event("Deployment", "3.0.0"), "body: more follows the JSON object, which ends at byte 202; send one object"},
		{"a version with a newline", event("Deployment", `2.0.0\n`),
			`body: object.metadata.labels[app.kubernetes.io/version]: "2.0.0\n" ` + rule + "; send the object as the API server serves it"},
		{"a version of 100k characters", event("Deployment", long),
			`body: object.metadata.labels[app.kubernetes.io/version]: "` + long[:64] + `"... (100000 bytes) ` + rule + "; send the object as the API server serves it"},
		{"a version of invalid UTF-8", event("Deployment", "2.0.0\xff"),
			"body: object.metadata.labels[app.kubernetes.io/version]: \"2.0.0\ufffd\" " + rule + "; send the object as the API server serves it"},
		{"a name of 64 characters", strings.Replace(event("Deployment", "1"), `"name":"httpbin"`, `"name":"`+strings.Repeat("n", 64)+`"`, 1),
			`body: object.metadata.name: "` + strings.Repeat("n", 64) + `" ` + rule + "; autox sets the name as the run's label autox.dev/name, so it tests only objects with such names"},
		{"a namespace that is not one", strings.Replace(event("Deployment", "1"), `"namespace":"default"`, `"namespace":"Default"`, 1),
			`body: object.metadata.namespace: "Default" is not a namespace (at most 63 characters: lower-case letters, digits and '-', beginning and ending with a letter or digit); send the object as the API server serves it`},
		{"a kind that is not one", event("Deploy ment", "1"),
			`body: object.kind: "Deploy ment" is not a kind (a letter, then letters and digits, at most 63, e.g. Deployment); send the object as the API server serves it`},
		{"an apiVersion that is not one", strings.Replace(event("Deployment", "1"), `"apps/v1"`, `"apps/v1/x"`, 1),
			`body: object.apiVersion: "apps/v1/x" is not an API version (version, or group/version, e.g. apps/v1); send the object as the API server serves it`},
		{"a trigger name of 300 characters", strings.Replace(event("Deployment", "1"), `"autox-httpbin-iter8"`, `"`+strings.Repeat("t", 300)+`"`, 1),
			`body: trigger: "` + strings.Repeat("t", 64) + `"... (300 bytes) is longer than a Trigger's name may be (253); name the group's Trigger, e.g. autox-httpbin-iter8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEvent([]byte(tc.body))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestMatchesTheKindWhole: the event's kind must be the resource's kind,
// whole; "D" once matched deployments by its first letter.
func TestMatchesTheKindWhole(t *testing.T) {
	deployments := Object{Name: "httpbin", Namespace: "default", Group: "apps", Version: "v1", Resource: "deployments"}
	ref := func(apiVersion, kind string) ObjectRef {
		return ObjectRef{APIVersion: apiVersion, Kind: kind, Metadata: Meta{Name: "httpbin", Namespace: "default"}}
	}
	for _, tc := range []struct {
		name string
		o    Object
		ref  ObjectRef
		want string
	}{
		{"Deployment", deployments, ref("apps/v1", "Deployment"), ""},
		{"NetworkPolicy", Object{Name: "httpbin", Namespace: "default", Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}, ref("networking.k8s.io/v1", "NetworkPolicy"), ""},
		{"Ingress", Object{Name: "httpbin", Namespace: "default", Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, ref("networking.k8s.io/v1", "Ingress"), ""},
		{"Endpoints", Object{Name: "httpbin", Namespace: "default", Version: "v1", Resource: "endpoints"}, ref("v1", "Endpoints"), ""},
		{"D", deployments, ref("apps/v1", "D"),
			`kind "D" is not the kind of deployments: its lower-case form plus s, es or (for a y) ies must be "deployments", e.g. Deployment`},
		{"Deploy", deployments, ref("apps/v1", "Deploy"),
			`kind "Deploy" is not the kind of deployments: its lower-case form plus s, es or (for a y) ies must be "deployments", e.g. Deployment`},
		{"StatefulSet", deployments, ref("apps/v1", "StatefulSet"),
			`kind "StatefulSet" is not the kind of deployments: its lower-case form plus s, es or (for a y) ies must be "deployments", e.g. Deployment`},
		{"another apiVersion", deployments, ref("apps/v1beta1", "Deployment"), `apiVersion "apps/v1beta1" is not "apps/v1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.o.Mismatch(tc.ref)); diff != "" {
				t.Errorf("Mismatch (-want +got):\n%s", diff)
			}
			if got := tc.o.Matches(tc.ref); got != (tc.want == "") {
				t.Errorf("Matches = %v, want %v", got, tc.want == "")
			}
		})
	}
}

// TestParseParamsRefusesNamesThatCannotBeLabels: the trigger object's
// name becomes the run's label autox.dev/name, and its namespace
// must be one.
func TestParseParamsRefusesNamesThatCannotBeLabels(t *testing.T) {
	params := func(name, namespace string) map[string]any {
		return map[string]any{"group": "httpbin", "spec": "iter8", "experiment": map[string]any{"tasks": []any{"http"}},
			"trigger": map[string]any{"name": name, "namespace": namespace, "group": "apps", "version": "v1", "resource": "deployments"}}
	}
	for _, tc := range []struct{ name, objName, namespace, want string }{
		{"valid", "httpbin.v2", "default", ""},
		{"a name of 64 characters", strings.Repeat("n", 64), "default",
			`params.trigger.name: "` + strings.Repeat("n", 64) + `" is not a valid label value (at most 63 characters: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit); autox sets it as the run's label autox.dev/name, so it tests only objects with such names`},
		{"a name with a newline", "httpbin\n", "default",
			`params.trigger.name: "httpbin\n" is not a valid label value (at most 63 characters: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit); autox sets it as the run's label autox.dev/name, so it tests only objects with such names`},
		{"a namespace that is not one", "httpbin", "team_b",
			`params.trigger.namespace: "team_b" is not a namespace (at most 63 characters: lower-case letters, digits and '-', beginning and ending with a letter or digit); name the object's namespace`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseParams(params(tc.objName, tc.namespace))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
