// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package tektontest is for tests that check YAML the way Tekton's and
// Triggers' webhooks and the EventListener treat it: the webhooks'
// context (feature flags and defaults of the Tekton release in go.mod),
// and a Trigger resolved into the PipelineRun it makes.
package tektontest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tektoncd/pipeline/pkg/apis/config"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggerscontexts "github.com/tektoncd/triggers/pkg/apis/triggers/contexts"
	triggersv1beta1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"github.com/tektoncd/triggers/pkg/template"
	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"
)

// WebhookContext carries the feature flags and defaults of the Tekton
// Pipelines module's own config/ ConfigMaps, as a fresh install has them,
// in the mode Triggers' webhook always runs in (defaulting a binding's
// kind), for a create.
func WebhookContext(t testing.TB) context.Context {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/tektoncd/pipeline").Output()
	if err != nil {
		t.Fatalf("finding Tekton's module: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	data := func(file string) map[string]string {
		b, err := os.ReadFile(filepath.Join(dir, "config", file))
		if err != nil {
			t.Fatal(err)
		}
		var cm corev1.ConfigMap
		if err := yaml.Unmarshal(b, &cm); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return cm.Data
	}
	flags, err := config.NewFeatureFlagsFromMap(data("config-feature-flags.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defaults, err := config.NewDefaultsFromMap(data("config-defaults.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := triggerscontexts.WithUpgradeViaDefaulting(context.Background())
	return apis.WithinCreate(config.ToContext(ctx, &config.Config{FeatureFlags: flags, Defaults: defaults}))
}

// PipelineRun resolves tr as the EventListener does once its interceptor
// returned ext as extensions: the bindings (by name from bindings, or
// inline) against the event, the template (by name from templates) filled
// in. The one resource it makes is decoded as the EventListener decodes
// it (encoding/json: a raw newline in a string fails) into a PipelineRun,
// strictly.
func PipelineRun(t testing.TB, tr *triggersv1beta1.Trigger, bindings map[string]*triggersv1beta1.TriggerBinding,
	templates map[string]*triggersv1beta1.TriggerTemplate, ext map[string]any) *v1.PipelineRun {
	t.Helper()
	rt, err := template.ResolveTrigger(*tr,
		func(n string) (*triggersv1beta1.TriggerBinding, error) { return get(bindings, n) },
		func(n string) (*triggersv1beta1.ClusterTriggerBinding, error) {
			return nil, fmt.Errorf("no ClusterTriggerBinding %s", n)
		},
		func(n string) (*triggersv1beta1.TriggerTemplate, error) { return get(templates, n) })
	if err != nil {
		t.Fatal(err)
	}
	params, err := template.ResolveParams(rt, []byte(`{"type":"update"}`), http.Header{}, ext, template.NewTriggerContext("e1"))
	if err != nil {
		t.Fatal(err)
	}
	res := template.ResolveResources(rt.TriggerTemplate, params)
	if len(res) != 1 {
		t.Fatalf("%d resources, want one PipelineRun", len(res))
	}
	var pr v1.PipelineRun
	dec := json.NewDecoder(bytes.NewReader(res[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pr); err != nil {
		t.Fatalf("the PipelineRun: %v\n%s", err, res[0])
	}
	return &pr
}

func get[T any](m map[string]*T, name string) (*T, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("no %T %s", *new(T), name)
}
