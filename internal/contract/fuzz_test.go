// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package contract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
)

// maxMessage bounds an error's length: values are quoted cut (Quote), so
// a message stays a readable line whatever was sent.
const maxMessage = 2000

// message fails t when err is not lines of bounded length, each one
// problem (errors.Join puts one per line).
func message(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if msg == "" || strings.Contains(msg, "\r") {
		t.Fatalf("an empty or broken message: %q", msg)
	}
	for _, line := range strings.Split(msg, "\n") {
		if line == "" || len(line) > maxMessage {
			t.Fatalf("a message line empty or of %d bytes: %.300q", len(line), line)
		}
	}
}

// FuzzParseEvent: whatever the body, ParseEvent answers an event or one
// line of error, never a panic; an event it accepts names an object that
// could be a cluster's (CheckObjectRef) and reads the same once written
// again.
func FuzzParseEvent(f *testing.F) {
	for _, seed := range []string{
		`{"type":"update","trigger":"autox-httpbin-iter8","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"httpbin","namespace":"default","uid":"u","resourceVersion":"7","labels":{"app.kubernetes.io/version":"2.0.0"}}}}`,
		`{"type":"resync","trigger":"t","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}}`,
		`{"type":"update","trigger":"t","object":{"apiVersion":"apps/v1","kind":"D","metadata":{"name":"h"}}} trailing`,
		`{"type":"update","trigger":"t","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"h","labels":{"app.kubernetes.io/version":"1\n"}}}}`,
		`{"type":"add","objct":{}}`,
		`null`,
		"\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseEvent(body)
		if err != nil {
			message(t, err)
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("more than one line: %q", err)
			}
			return
		}
		if err := CheckObjectRef("object", ev.Object); err != nil {
			t.Fatalf("accepted an object it refuses: %v", err)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseEvent(b)
		if err != nil {
			t.Fatalf("%s, written again as %s: %v", body, b, err)
		}
		if diff := cmp.Diff(ev, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("written again, it reads differently (-first +again):\n%s", diff)
		}
	})
}

// FuzzParseParams: whatever the params (a JSON object), ParseParams
// answers params or its problems, one per line, never a panic; params it
// accepts make valid run names and labels and an experiment text.
func FuzzParseParams(f *testing.F) {
	for _, seed := range []string{
		`{"group":"httpbin","spec":"iter8","trigger":{"name":"httpbin","namespace":"default","group":"apps","version":"v1","resource":"deployments"},"experiment":{"tasks":["http"],"http":{"url":"http://h/"}}}`,
		`{"group":"g","spec":"s","trigger":{"name":"n","namespace":"ns","version":"v1","resource":"configmaps"},"experiment":"tasks: [http]\n"}`,
		`{"group":"G","spec":"","trigger":null,"experiment":[1]}`,
		`{"grop":"g"}`,
		`{"group":"g","spec":"s","trigger":{"name":"a\nb","namespace":"-x","version":"v1","resource":"r"},"experiment":{}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw map[string]any
		if json.Unmarshal(data, &raw) != nil {
			return
		}
		p, err := ParseParams(raw)
		if err != nil {
			message(t, err)
			return
		}
		validParams(t, p)
	})
}

// validParams fails t when accepted params could not make a run.
func validParams(t *testing.T, p Params) {
	t.Helper()
	if p.Trigger == nil {
		t.Fatal("accepted without a trigger object")
	}
	name := RunName(p.Group, p.Spec, "uid", 1)
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		t.Fatalf("run name %q: %v", name, errs)
	}
	for _, v := range []string{p.Group, p.Spec, p.Trigger.Name, p.Trigger.Namespace, name} {
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			t.Fatalf("label value %q: %v", v, errs)
		}
	}
	if _, err := p.ExperimentText(); err != nil {
		t.Fatalf("accepted, but no experiment text: %v", err)
	}
}

// FuzzFromTrigger: whatever the Trigger object, FromTrigger answers a
// group or its problems, one per line, never a panic; a group it accepts
// has valid params and the Trigger's labels.
func FuzzFromTrigger(f *testing.F) {
	for _, seed := range []string{
		`{"apiVersion":"triggers.tekton.dev/v1beta1","kind":"Trigger","metadata":{"name":"autox-httpbin-iter8","namespace":"autox","uid":"u","labels":{"autox.dev/group":"httpbin","autox.dev/spec":"iter8"}},
		  "spec":{"interceptors":[{"ref":{"name":"autox","kind":"ClusterInterceptor"},"params":[{"name":"group","value":"httpbin"},{"name":"spec","value":"iter8"},
		  {"name":"trigger","value":{"name":"httpbin","namespace":"default","group":"apps","version":"v1","resource":"deployments"}},{"name":"experiment","value":{"tasks":["http"]}}]}]}}`,
		`{"metadata":{"name":"t"},"spec":{"interceptors":[{"ref":{"name":"autox"},"params":[{"value":1}]}]}}`,
		`{"metadata":{"name":"t"},"spec":{"interceptors":"x"}}`,
		`{"spec":{"interceptors":[7,{"ref":{"name":"autox"},"params":{}}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var obj map[string]any
		if json.Unmarshal(data, &obj) != nil {
			return
		}
		tr := &unstructured.Unstructured{Object: obj}
		g, err := FromTrigger(tr)
		if err != nil {
			message(t, err)
			return
		}
		validParams(t, g.Params)
		if l := tr.GetLabels()[GroupLabel]; l != g.Group {
			t.Fatalf("label %s %q, group %q", GroupLabel, l, g.Group)
		}
	})
}
