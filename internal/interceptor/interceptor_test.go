package interceptor

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	pipelinefake "github.com/tektoncd/pipeline/pkg/client/clientset/versioned/fake"
	triggersv1beta1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"google.golang.org/grpc/codes"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/autox-tekton/autox/internal/decide"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// pipelineRun is a PipelineRun of group/spec as the TriggerTemplate makes
// it, created t0 plus minutes; state is "running", "done" or "cancelling".
func pipelineRun(group, spec, name, version string, minutes int, state string) *pipelinev1.PipelineRun {
	pr := &pipelinev1.PipelineRun{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "default", UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(minutes) * time.Minute)),
		Labels: map[string]string{
			decide.GroupLabel: group, decide.SpecLabel: spec,
			decide.VersionLabel: version, decide.NameLabel: "httpbin",
		},
	}}
	cond := apis.Condition{Type: apis.ConditionSucceeded, Status: corev1.ConditionUnknown, Reason: "Running"}
	switch state {
	case "done":
		cond.Status, cond.Reason = corev1.ConditionTrue, "Succeeded"
	case "cancelling":
		pr.Spec.Status = pipelinev1.PipelineRunSpecStatusCancelled
	}
	pr.Status.Conditions = duckv1.Conditions{cond}
	return pr
}

func httpbinRun(name, version string, minutes int, state string) *pipelinev1.PipelineRun {
	return pipelineRun("httpbin", "iter8", name, version, minutes, state)
}

// fixture is an Interceptor on a real informer cache and the real
// canceller, both over a fake Tekton clientset.
type fixture struct {
	interceptor *Interceptor
	client      *pipelinefake.Clientset
}

func newFixture(t testing.TB, runs ...*pipelinev1.PipelineRun) fixture {
	t.Helper()
	objs := make([]runtime.Object, len(runs))
	for i, r := range runs {
		objs[i] = r
	}
	client := pipelinefake.NewSimpleClientset(objs...)
	rc, err := NewRunCache(client)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go rc.Run(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), rc.HasSynced) {
		t.Fatal("the PipelineRun cache did not sync")
	}
	return fixture{
		interceptor: &Interceptor{Runs: rc, Canceller: PipelineRunCanceller{Client: client, Timeout: time.Second}, Log: testLogger(t),
			Now: func() time.Time { return decidedAt }},
		client: client,
	}
}

// patched lists the PipelineRuns patched, with the patch.
func (f fixture) patched() []string {
	var out []string
	for _, a := range f.client.Actions() {
		if p, ok := a.(k8stesting.PatchAction); ok {
			out = append(out, p.GetName()+" "+string(p.GetPatchType())+" "+string(p.GetPatch()))
		}
	}
	sort.Strings(out)
	return out
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// deployment is the httpbin Deployment as the API server serves it, with
// the version label when version is not "".
func deployment(version string) map[string]interface{} {
	labels := map[string]interface{}{"app": "httpbin"}
	if version != "" {
		labels[decide.VersionLabel] = version
	}
	return map[string]interface{}{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]interface{}{"name": "httpbin", "namespace": "default", "uid": "dep-uid", "labels": labels},
		"spec":     map[string]interface{}{"replicas": 1},
	}
}

func watcherBody(t testing.TB, typ string, obj, old map[string]interface{}) string {
	ev := map[string]interface{}{"type": typ, "object": obj}
	if old != nil {
		ev["oldObject"] = old
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func httpbinParams() map[string]interface{} {
	return map[string]interface{}{
		"group": "httpbin", "spec": "iter8",
		"trigger":    map[string]interface{}{"name": "httpbin", "namespace": "default", "group": "apps", "version": "v1", "resource": "deployments"},
		"experiment": map[string]interface{}{"tasks": []interface{}{"ready", "http", "assess"}, "http": map[string]interface{}{"url": "http://httpbin.default/get"}},
	}
}

// decidedAt is the fixture's clock.
var decidedAt = time.Date(2026, 11, 27, 11, 0, 0, 123456789, time.FixedZone("CET", 3600))

// httpbinExperiment is httpbinParams' experiment as the extensions carry
// it: YAML, keys sorted.
const httpbinExperiment = "http:\n  url: http://httpbin.default/get\ntasks:\n- ready\n- http\n- assess\n"

func request(body string, header map[string][]string) *triggersv1beta1.InterceptorRequest {
	return &triggersv1beta1.InterceptorRequest{
		Body: body, Header: header, InterceptorParams: httpbinParams(),
		Context: &triggersv1beta1.TriggerContext{EventID: "ev-1", TriggerID: "namespaces/default/triggers/autox-httpbin-iter8"},
	}
}

// recorded reads the recorded ApiServerSource request in testdata.
func recorded(t testing.TB) (string, map[string][]string) {
	t.Helper()
	f, err := os.Open("testdata/apiserversource-update.http")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, err := http.ReadRequest(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body), req.Header
}

func ceHeader(typ string) map[string][]string {
	return map[string][]string{
		"Ce-Specversion": {"1.0"}, "Ce-Type": {typ}, "Ce-Source": {"https://10.96.0.1:443"},
		"Ce-Subject": {"/apis/apps/v1/namespaces/default/deployments/httpbin"}, "Ce-Id": {"id-1"},
		"Content-Type": {"application/json"},
	}
}

func launched(version, runName string) *triggersv1beta1.InterceptorResponse {
	return &triggersv1beta1.InterceptorResponse{Continue: true, Extensions: map[string]interface{}{"autox": Extensions{
		Group: "httpbin", Spec: "iter8", Version: version, Name: "httpbin", Namespace: "default", RunName: runName,
		Experiment: httpbinExperiment, DecidedAt: "2026-11-27T10:00:00.123456789Z",
	}}}
}

const cancelled = ` application/merge-patch+json {"spec":{"status":"Cancelled"}}`

func TestProcess_ShouldContinue(t *testing.T) {
	recordedBody, recordedHeader := recorded(t)
	for _, tc := range []struct {
		name        string
		runs        []*pipelinev1.PipelineRun
		body        string
		header      map[string][]string
		want        *triggersv1beta1.InterceptorResponse
		wantPatched []string
	}{{
		name: "label 1.0.0 on a new object, no run yet",
		body: watcherBody(t, "add", deployment("1.0.0"), nil),
		want: launched("1.0.0", "autox-httpbin-iter8-e9b73465e5"),
	}, {
		name:        "label 1.0.0 -> 2.0.0 while the 1.0.0 run is going: launch, cancel it",
		runs:        []*pipelinev1.PipelineRun{httpbinRun("r1", "1.0.0", 1, "running")},
		body:        watcherBody(t, "update", deployment("2.0.0"), deployment("1.0.0")),
		want:        launched("2.0.0", decide.RunName("httpbin", "iter8", "2.0.0", "uid-r1")),
		wantPatched: []string{"r1" + cancelled},
	}, {
		name: "revert 1.0.0 -> 2.0.0 -> 1.0.0",
		runs: []*pipelinev1.PipelineRun{httpbinRun("r1", "1.0.0", 1, "done"), httpbinRun("r2", "2.0.0", 2, "done")},
		body: watcherBody(t, "update", deployment("1.0.0"), deployment("2.0.0")),
		want: launched("1.0.0", decide.RunName("httpbin", "iter8", "1.0.0", "uid-r2")),
	}, {
		name: "runs of another spec and another group do not count",
		runs: []*pipelinev1.PipelineRun{
			pipelineRun("httpbin", "other", "o1", "1.0.0", 5, "running"),
			pipelineRun("routeguide", "iter8", "o2", "1.0.0", 6, "running"),
		},
		body: watcherBody(t, "update", deployment("1.0.0"), deployment("")),
		want: launched("1.0.0", "autox-httpbin-iter8-e9b73465e5"),
	}, {
		name:        "recorded ApiServerSource update with 2.0.0 after a 1.0.0 run",
		runs:        []*pipelinev1.PipelineRun{httpbinRun("r1", "1.0.0", 1, "running")},
		body:        recordedBody,
		header:      recordedHeader,
		want:        launched("2.0.0", decide.RunName("httpbin", "iter8", "2.0.0", "uid-r1")),
		wantPatched: []string{"r1" + cancelled},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.runs...)
			got := f.interceptor.Process(context.Background(), request(tc.body, tc.header))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Process (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPatched, f.patched()); diff != "" {
				t.Errorf("patched PipelineRuns (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProcess_ShouldNotContinue(t *testing.T) {
	running2 := func() *pipelinev1.PipelineRun { return httpbinRun("r2", "2.0.0", 2, "running") }
	done1 := func() *pipelinev1.PipelineRun { return httpbinRun("r1", "1.0.0", 1, "done") }
	other := func(apiVersion, kind, name string) map[string]interface{} {
		d := deployment("3.0.0")
		d["apiVersion"], d["kind"] = apiVersion, kind
		d["metadata"].(map[string]interface{})["name"] = name
		return d
	}
	for _, tc := range []struct {
		name        string
		runs        []*pipelinev1.PipelineRun
		body        string
		header      map[string][]string
		wantMessage string
		wantPatched []string
	}{{
		name:        "same version as the latest run (an event sent twice, a re-list)",
		runs:        []*pipelinev1.PipelineRun{done1(), running2()},
		body:        watcherBody(t, "update", deployment("2.0.0"), deployment("2.0.0")),
		wantMessage: `version "2.0.0" of httpbin/iter8 is already tested by the latest run r2; nothing to launch`,
	}, {
		name:        "replicas changed: the version is the latest run's",
		runs:        []*pipelinev1.PipelineRun{done1()},
		body:        watcherBody(t, "update", deployment("1.0.0"), deployment("1.0.0")),
		wantMessage: `version "1.0.0" of httpbin/iter8 is already tested by the latest run r1; nothing to launch`,
	}, {
		name:        "label removed while a run is going: cancel it",
		runs:        []*pipelinev1.PipelineRun{done1(), running2()},
		body:        watcherBody(t, "update", deployment(""), deployment("2.0.0")),
		wantMessage: `the version label app.kubernetes.io/version was removed (it was "2.0.0"); nothing to launch; cancelling r2`,
		wantPatched: []string{"r2" + cancelled},
	}, {
		name:        "object deleted while a run is going: cancel it",
		runs:        []*pipelinev1.PipelineRun{done1(), running2()},
		body:        watcherBody(t, "delete", deployment("2.0.0"), nil),
		wantMessage: `the object was deleted; nothing to launch; cancelling r2`,
		wantPatched: []string{"r2" + cancelled},
	}, {
		name:        "ApiServerSource delete: cancel",
		runs:        []*pipelinev1.PipelineRun{running2()},
		body:        mustJSON(t, deployment("2.0.0")),
		header:      ceHeader("dev.knative.apiserver.resource.delete"),
		wantMessage: `the object was deleted; nothing to launch; cancelling r2`,
		wantPatched: []string{"r2" + cancelled},
	}, {
		name:        "a run already being cancelled is not patched again",
		runs:        []*pipelinev1.PipelineRun{httpbinRun("r2", "2.0.0", 2, "cancelling")},
		body:        watcherBody(t, "delete", deployment("2.0.0"), nil),
		wantMessage: `the object was deleted; no run of httpbin/iter8 is running; nothing to launch`,
	}, {
		name:        "another Deployment of the EventListener",
		body:        watcherBody(t, "update", other("apps/v1", "Deployment", "routeguide"), nil),
		wantMessage: `the event is about apps/v1 Deployment default/routeguide, not this Trigger's object apps/v1 deployments default/httpbin; nothing to do`,
	}, {
		name:        "another kind with the trigger's name",
		body:        watcherBody(t, "update", other("apps/v1", "StatefulSet", "httpbin"), nil),
		wantMessage: `the event is about apps/v1 StatefulSet default/httpbin, not this Trigger's object apps/v1 deployments default/httpbin; nothing to do`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.runs...)
			got := f.interceptor.Process(context.Background(), request(tc.body, tc.header))
			want := &triggersv1beta1.InterceptorResponse{Status: triggersv1beta1.Status{Code: codes.FailedPrecondition, Message: tc.wantMessage}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Process (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPatched, f.patched()); diff != "" {
				t.Errorf("patched PipelineRuns (-want +got):\n%s", diff)
			}
		})
	}
}

func mustJSON(t testing.TB, v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestProcess_InvalidArgument(t *testing.T) {
	noMetadata := deployment("1.0.0")
	delete(noMetadata, "metadata")
	noName := deployment("1.0.0")
	delete(noName["metadata"].(map[string]interface{}), "name")
	noKind := deployment("1.0.0")
	delete(noKind, "kind")
	for _, tc := range []struct {
		name        string
		params      map[string]interface{}
		body        string
		header      map[string][]string
		wantMessage string
	}{{
		name:        "body not JSON",
		body:        `label=2.0.0`,
		wantMessage: `body is not JSON: invalid character 'l' looking for beginning of value`,
	}, {
		name:        "empty body",
		body:        ``,
		wantMessage: `body is not JSON: EOF`,
	}, {
		name:        "no object",
		body:        `{"type": "update"}`,
		wantMessage: `body: object is missing; the body is {type, object, oldObject} with object the full Kubernetes object`,
	}, {
		name:        "object null",
		body:        `{"type": "update", "object": null}`,
		wantMessage: `body: object is missing; the body is {type, object, oldObject} with object the full Kubernetes object`,
	}, {
		name:        "object without metadata",
		body:        watcherBody(t, "update", noMetadata, nil),
		wantMessage: `object has no metadata; send the full object (apiVersion, kind, metadata, ...)`,
	}, {
		name:        "object without a name",
		body:        watcherBody(t, "update", noName, nil),
		wantMessage: `object.metadata.name is missing`,
	}, {
		name:        "object without kind",
		body:        watcherBody(t, "update", noKind, nil),
		wantMessage: `object has no apiVersion or kind; send the object as the API server serves it`,
	}, {
		name:        "object not an object",
		body:        `{"type": "update", "object": "httpbin"}`,
		wantMessage: `object is not a Kubernetes object: want a JSON object, got a JSON string`,
	}, {
		name:        "old object without metadata",
		body:        watcherBody(t, "update", deployment("1.0.0"), noMetadata),
		wantMessage: `oldObject has no metadata; send the full object (apiVersion, kind, metadata, ...)`,
	}, {
		name:        "no type",
		body:        `{"object": {}}`,
		wantMessage: `body: type is missing; want "add", "update" or "delete"`,
	}, {
		name:        "unknown type",
		body:        watcherBody(t, "modified", deployment("1.0.0"), nil),
		wantMessage: `body: type "modified" is not "add", "update" or "delete"`,
	}, {
		name:        "a bare object without CloudEvent headers",
		body:        mustJSON(t, deployment("1.0.0")),
		wantMessage: `body: unknown key "apiVersion"; the body is {type, object, oldObject}, or a Knative ApiServerSource CloudEvent with a Ce-Type header`,
	}, {
		name:        "misspelt key",
		body:        `{"type": "update", "objet": {}}`,
		wantMessage: `body: unknown key "objet"; did you mean "object"?; the body is {type, object, oldObject}, or a Knative ApiServerSource CloudEvent with a Ce-Type header`,
	}, {
		name:        "ApiServerSource in mode Reference",
		body:        `{"kind": "Deployment", "namespace": "default", "name": "httpbin", "apiVersion": "apps/v1"}`,
		header:      ceHeader("dev.knative.apiserver.ref.update"),
		wantMessage: `Ce-Type "dev.knative.apiserver.ref.update" is a reference event, which carries no labels; set the ApiServerSource's mode to Resource`,
	}, {
		name:        "a CloudEvent of another source",
		body:        `{}`,
		header:      ceHeader("dev.knative.sources.ping"),
		wantMessage: `Ce-Type "dev.knative.sources.ping" is not an ApiServerSource resource event; want dev.knative.apiserver.resource.add, update or delete`,
	}, {
		name:        "ApiServerSource event with no body",
		body:        ``,
		header:      ceHeader("dev.knative.apiserver.resource.add"),
		wantMessage: `body: object is missing; an ApiServerSource add event carries the object as its body`,
	}, {
		name:        "ApiServerSource event with a body that is not JSON",
		body:        `<html>`,
		header:      ceHeader("dev.knative.apiserver.resource.add"),
		wantMessage: `body is not JSON: invalid character '<' looking for beginning of value`,
	}, {
		name:        "params missing group",
		params:      map[string]interface{}{"spec": "iter8", "trigger": httpbinParams()["trigger"], "experiment": httpbinParams()["experiment"]},
		body:        watcherBody(t, "update", deployment("1.0.0"), nil),
		wantMessage: `params.group is missing; add {name: group, value: <group, e.g. httpbin>} to the Trigger's autox interceptor params`,
	}, {
		name:        "params missing spec",
		params:      map[string]interface{}{"group": "httpbin", "trigger": httpbinParams()["trigger"], "experiment": httpbinParams()["experiment"]},
		body:        watcherBody(t, "update", deployment("1.0.0"), nil),
		wantMessage: `params.spec is missing; add {name: spec, value: <spec, e.g. iter8>} to the Trigger's autox interceptor params`,
	}, {
		name:   "no params at all: every problem, one per line",
		params: map[string]interface{}{},
		body:   watcherBody(t, "update", deployment("1.0.0"), nil),
		wantMessage: "params.group is missing; add {name: group, value: <group, e.g. httpbin>} to the Trigger's autox interceptor params\n" +
			"params.spec is missing; add {name: spec, value: <spec, e.g. iter8>} to the Trigger's autox interceptor params\n" +
			"params.trigger is missing; add {name: trigger, value: {name, namespace, group, version, resource}} naming the object whose version label launches runs\n" +
			"params.experiment is missing; add {name: experiment, value: {tasks: [ready, http, assess], ready: ..., http: ..., assess: ...}}, the spec's values",
	}, {
		name:        "trigger without a name",
		params:      map[string]interface{}{"group": "httpbin", "spec": "iter8", "trigger": map[string]interface{}{"namespace": "default", "group": "apps", "version": "v1", "resource": "deployments"}, "experiment": httpbinParams()["experiment"]},
		body:        watcherBody(t, "update", deployment("1.0.0"), nil),
		wantMessage: `params.trigger.name is missing; the trigger object is {name, namespace, group, version, resource}, e.g. {name: httpbin, namespace: default, group: apps, version: v1, resource: deployments}`,
	}, {
		name:        "misspelt param",
		params:      map[string]interface{}{"grop": "httpbin", "spec": "iter8"},
		body:        watcherBody(t, "update", deployment("1.0.0"), nil),
		wantMessage: `params: unknown key "grop"; did you mean "group"? (known: group, spec, trigger, experiment; in trigger: name, namespace, group, version, resource)`,
	}, {
		name:        "group not a DNS label",
		params:      map[string]interface{}{"group": "HttpBin", "spec": "iter8", "trigger": httpbinParams()["trigger"], "experiment": httpbinParams()["experiment"]},
		body:        watcherBody(t, "update", deployment("1.0.0"), nil),
		wantMessage: `params.group: "HttpBin" is not a DNS label; use lower-case letters, digits and '-', starting and ending with a letter or digit`,
	}, {
		name:        "experiment neither an object nor a string",
		params:      map[string]interface{}{"group": "httpbin", "spec": "iter8", "trigger": httpbinParams()["trigger"], "experiment": 7},
		body:        watcherBody(t, "update", deployment("1.0.0"), nil),
		wantMessage: `params.experiment: want the spec's values as an object (or its YAML as a string), got 7`,
	}, {
		name:        "group not a string",
		params:      map[string]interface{}{"group": 7, "spec": "iter8", "trigger": httpbinParams()["trigger"], "experiment": httpbinParams()["experiment"]},
		body:        watcherBody(t, "update", deployment("1.0.0"), nil),
		wantMessage: `params: group: want string, got a JSON number`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, httpbinRun("r1", "0.9.0", 1, "running"))
			req := request(tc.body, tc.header)
			if tc.params != nil {
				req.InterceptorParams = tc.params
			}
			got := f.interceptor.Process(context.Background(), req)
			want := &triggersv1beta1.InterceptorResponse{Status: triggersv1beta1.Status{Code: codes.InvalidArgument, Message: tc.wantMessage}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Process (-want +got):\n%s", diff)
			}
			if p := f.patched(); len(p) != 0 {
				t.Errorf("bad input patched PipelineRuns: %v", p)
			}
		})
	}
}
