// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/names"
)

// Params are the autox interceptor's params on a group's Trigger: the
// group's whole configuration, read from the Trigger object by the
// watcher and the interceptor (never from a request):
//
//	params:
//	  - name: group
//	    value: httpbin
//	  - name: spec
//	    value: iter8
//	  - name: trigger
//	    value: {name: httpbin, namespace: default, group: apps, version: v1, resource: deployments}
//	  - name: experiment
//	    value: {tasks: [ready, http, assess], ready: ..., http: ..., assess: ...}
type Params struct {
	// Group is the autox group (label autox.dev/group on the runs).
	Group string `json:"group"`
	// Spec is the group's spec (label autox.dev/spec on the runs).
	Spec string `json:"spec"`
	// Trigger is the object whose version label this Trigger follows.
	Trigger *Object `json:"trigger"`
	// Experiment is the spec's values, the experiment the run does: a
	// YAML (JSON) object, or a string holding its YAML text. It reaches the
	// TriggerTemplate through the extensions, which Triggers escapes for
	// JSON.
	Experiment json.RawMessage `json:"experiment"`
}

// Object names a trigger object as the seed does.
type Object struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Group is the API group, "" for the core group.
	Group    string `json:"group"`
	Version  string `json:"version"`
	Resource string `json:"resource"`
}

var paramNames = []string{"group", "spec", "trigger", "experiment"}

var objectFields = []string{"name", "namespace", "group", "version", "resource"}

// dnsLabel is what group and spec must be: they become parts of a
// PipelineRun name and label values.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// ParseParams decodes the Trigger's params, refusing unknown ones (a
// misspelt param would otherwise be silently empty), and returns every
// problem, one per line.
func ParseParams(raw map[string]interface{}) (Params, error) {
	var p Params
	b, err := json.Marshal(raw)
	if err != nil {
		return p, fmt.Errorf("params: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("params: %s", jsonProblem(err, paramNames, "trigger", objectFields))
	}
	var errs []error
	for _, f := range []struct{ name, value, example string }{{"group", p.Group, "httpbin"}, {"spec", p.Spec, "iter8"}} {
		switch {
		case f.value == "":
			errs = append(errs, fmt.Errorf("params.%s is missing; add {name: %s, value: <%s, e.g. %s>} to the Trigger's autox interceptor params", f.name, f.name, f.name, f.example))
		case !dnsLabel.MatchString(f.value):
			errs = append(errs, fmt.Errorf("params.%s: %s is not a DNS label; use lower-case letters, digits and '-', starting and ending with a letter or digit", f.name, Quote(f.value)))
		}
	}
	if n := len(p.Group) + len(p.Spec); n > MaxGroupSpecLength {
		errs = append(errs, fmt.Errorf("params.group and params.spec: %s and %s are %d characters together; shorten them to %d at most so that run names fit 63 characters", Quote(p.Group), Quote(p.Spec), n, MaxGroupSpecLength))
	}
	if p.Trigger == nil {
		errs = append(errs, errors.New("params.trigger is missing; add {name: trigger, value: {name, namespace, group, version, resource}} naming the object whose version label launches runs"))
	} else {
		for _, f := range []struct{ name, value string }{{"name", p.Trigger.Name}, {"namespace", p.Trigger.Namespace}, {"version", p.Trigger.Version}, {"resource", p.Trigger.Resource}} {
			if f.value == "" {
				errs = append(errs, fmt.Errorf("params.trigger.%s is missing; the trigger object is {name, namespace, group, version, resource}, e.g. {name: httpbin, namespace: default, group: apps, version: v1, resource: deployments}", f.name))
			}
		}
		if p.Trigger.Name != "" {
			// The run carries it as its label autox.dev/name.
			if err := CheckLabelValue("params.trigger.name", p.Trigger.Name); err != nil {
				errs = append(errs, fmt.Errorf("%w; autox sets it as the run's label %s, so it tests only objects with such names", err, TestedNameLabel))
			}
		}
		if ns := p.Trigger.Namespace; ns != "" && (!dnsLabel.MatchString(ns) || len(ns) > 63) {
			errs = append(errs, fmt.Errorf("params.trigger.namespace: %s is not a namespace (at most 63 characters: lower-case letters, digits and '-', beginning and ending with a letter or digit); name the object's namespace", Quote(p.Trigger.Namespace)))
		}
	}
	if err := p.checkExperiment(); err != nil {
		errs = append(errs, err)
	}
	return p, errors.Join(errs...)
}

const missingExperiment = "params.experiment is missing; add {name: experiment, value: {tasks: [ready, http, assess], ready: ..., http: ..., assess: ...}}, the spec's values"

// checkExperiment is ExperimentText's checks without the YAML it writes:
// every event checks the params, only a launch needs the text.
func (p Params) checkExperiment() error {
	raw := bytes.TrimSpace(p.Experiment)
	if len(raw) == 0 || string(raw) == "null" {
		return errors.New(missingExperiment)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("params.experiment: %w", err)
		}
		if strings.TrimSpace(s) == "" {
			return errors.New(missingExperiment)
		}
		return nil
	case '{':
		return nil
	default:
		return fmt.Errorf("params.experiment: want the spec's values as an object (or its YAML as a string), got %s", cut(string(raw)))
	}
}

// ExperimentText is the experiment as the YAML text the Pipeline's
// experiment param takes: an object is written as YAML (keys sorted), a
// string is taken as it is.
func (p Params) ExperimentText() (string, error) {
	if err := p.checkExperiment(); err != nil {
		return "", err
	}
	raw := bytes.TrimSpace(p.Experiment)
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	b, err := yaml.JSONToYAML(raw)
	if err != nil {
		return "", fmt.Errorf("params.experiment: %w", err)
	}
	return string(b), nil
}

// jsonProblem rewrites a decoding error for people: an unknown key is
// named with its nearest known one.
func jsonProblem(err error, known []string, nested string, nestedKnown []string) string {
	msg := err.Error()
	const unknown = `json: unknown field "`
	if strings.HasPrefix(msg, unknown) {
		key := strings.TrimSuffix(strings.TrimPrefix(msg, unknown), `"`)
		// encoding/json does not say at which level the key was; a key that
		// is not a top-level one is reported against both lists.
		candidates := known
		where := ""
		if nested != "" {
			candidates = append(append([]string(nil), known...), nestedKnown...)
			where = fmt.Sprintf(" (known: %s; in %s: %s)", strings.Join(known, ", "), nested, strings.Join(nestedKnown, ", "))
		}
		if best, ok := names.Closest(key, candidates, 2); ok {
			return fmt.Sprintf("unknown key %s; did you mean %q?%s", Quote(key), best, where)
		}
		return fmt.Sprintf("unknown key %s%s", Quote(key), where)
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return fmt.Sprintf("want a JSON object, got a JSON %s", typeErr.Value)
		}
		return fmt.Sprintf("%s: want %s, got a JSON %s", typeErr.Field, typeErr.Type, typeErr.Value)
	}
	return msg
}

// cut is s for a message: whole when short, else quoted, cut to its
// first bytes, with its length.
func cut(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	return Quote(s)
}
