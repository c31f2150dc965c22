package watcher

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// triggerYAML is a Trigger as triggers/examples writes one, with the
// autox interceptor's params given.
func triggerYAML(name, interceptors string) string {
	return `apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata:
  name: ` + name + `
  namespace: autox
  labels:
    autox.dev/group: httpbin
    autox.dev/spec: iter8
spec:
  interceptors:
` + interceptors + `
  bindings:
    - ref: autox
  template:
    ref: autox
`
}

const autoxInterceptor = `    - ref: {name: autox, kind: ClusterInterceptor}
      params:
        - name: group
          value: httpbin
        - name: spec
          value: iter8
        - name: trigger
          value: {name: httpbin, namespace: default, group: apps, version: v1, resource: deployments}`

func parseYAML(t *testing.T, text string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(text), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestParseTrigger(t *testing.T) {
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	for _, tc := range []struct {
		name         string
		interceptors string
		want         target
		wantErr      string
	}{{
		name:         "the seed's httpbin group",
		interceptors: autoxInterceptor,
		want:         target{resourceKey{deployments, "default"}, "httpbin"},
	}, {
		name: "after another interceptor, kind left to its default",
		interceptors: `    - ref: {name: cel, kind: ClusterInterceptor}
      params: [{name: filter, value: "true"}]
    - ref: {name: autox}
      params:
        - {name: trigger, value: {name: web, namespace: shop, version: v1, resource: services}}`,
		want: target{resourceKey{schema.GroupVersionResource{Version: "v1", Resource: "services"}, "shop"}, "web"},
	}, {
		name:         "no autox interceptor",
		interceptors: `    - ref: {name: cel, kind: ClusterInterceptor}`,
		wantErr:      "spec.interceptors: no interceptor with ref {name: autox, kind: ClusterInterceptor}; add it, with the params group, spec and trigger",
	}, {
		name:         "an autox Interceptor of another kind is not ours",
		interceptors: `    - ref: {name: autox, kind: NamespacedInterceptor}`,
		wantErr:      "spec.interceptors: no interceptor with ref {name: autox, kind: ClusterInterceptor}; add it, with the params group, spec and trigger",
	}, {
		name: "no trigger param",
		interceptors: `    - ref: {name: autox, kind: ClusterInterceptor}
      params: [{name: group, value: httpbin}]`,
		wantErr: `spec.interceptors[0].params: no param "trigger"; add {name: trigger, value: {name, namespace, group, version, resource}} naming the object to watch`,
	}, {
		name: "a misspelt field",
		interceptors: `    - ref: {name: autox, kind: ClusterInterceptor}
      params:
        - {name: trigger, value: {name: httpbin, namespace: default, group: apps, version: v1, resources: deployments}}`,
		wantErr: `spec.interceptors[0].params[0].value: {"group":"apps","name":"httpbin","namespace":"default","resources":"deployments","version":"v1"} is not a trigger (json: unknown field "resources"); write {name: <object>, namespace: <its namespace>, group: <API group, "" for core>, version: <e.g. v1>, resource: <plural, e.g. deployments>}`,
	}, {
		name: "a string, not an object",
		interceptors: `    - ref: {name: autox, kind: ClusterInterceptor}
      params:
        - {name: trigger, value: deployments/httpbin}`,
		wantErr: `spec.interceptors[0].params[0].value: "deployments/httpbin" is not an object; write {name: <object>, namespace: <its namespace>, group: <API group, "" for core>, version: <e.g. v1>, resource: <plural, e.g. deployments>}`,
	}, {
		name: "no namespace",
		interceptors: `    - ref: {name: autox, kind: ClusterInterceptor}
      params:
        - {name: trigger, value: {name: httpbin, group: apps, version: v1, resource: deployments}}`,
		wantErr: "spec.interceptors[0].params[0].value.namespace: is empty; write the object's namespace (only namespaced objects are watched)",
	}, {
		name: "no resource",
		interceptors: `    - ref: {name: autox, kind: ClusterInterceptor}
      params:
        - {name: trigger, value: {name: httpbin, namespace: default, group: apps, version: v1}}`,
		wantErr: "spec.interceptors[0].params[0].value.resource: is empty; write the plural resource, e.g. deployments",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTrigger(parseYAML(t, triggerYAML("autox-httpbin-iter8", tc.interceptors)))
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(target{})); diff != "" {
				t.Errorf("target (-want +got):\n%s", diff)
			}
		})
	}
}
