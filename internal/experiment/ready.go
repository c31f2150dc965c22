// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"fmt"
	"time"
)

// DefaultReadyTimeout is Iter8's.
const DefaultReadyTimeout = 60 * time.Second

// Ready is the ready task: the objects that must be ready before load.
type Ready struct {
	// Deploy is a Deployment that must be Available.
	Deploy string `yaml:"deploy,omitempty" json:"deploy,omitempty"`
	// Service is a Service that must exist and have ready endpoints.
	Service string `yaml:"service,omitempty" json:"service,omitempty"`
	// KSvc is a Knative Service that must be Ready.
	KSvc string `yaml:"ksvc,omitempty" json:"ksvc,omitempty"`
	// ISvc is a KServe InferenceService that must be Ready.
	ISvc string `yaml:"isvc,omitempty" json:"isvc,omitempty"`
	// Objects are any other objects, each with an optional condition.
	Objects []ReadyObject `yaml:"objects,omitempty" json:"objects,omitempty"`
	// Namespace of every object; default: the kubeconfig's (the pod's).
	Namespace string    `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	Timeout   *Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// ReadyObject names any object by group, version, resource and name.
type ReadyObject struct {
	Group    string `yaml:"group,omitempty" json:"group,omitempty"`
	Version  string `yaml:"version" json:"version"`
	Resource string `yaml:"resource" json:"resource"`
	Name     string `yaml:"name" json:"name"`
	// Condition, if set, must be True in status.conditions.
	Condition string `yaml:"condition,omitempty" json:"condition,omitempty"`
}

// Wait is one object to wait for, resolved.
type Wait struct {
	Group, Version, Resource, Name string
	// Condition must be True; "" means the object only has to exist.
	Condition string
	// Endpoints asks for a Service with ready endpoints.
	Endpoints bool
	// Kind names the object in messages ("deployment", "service", ...).
	Kind string
	Path string
}

// Waits returns the objects to wait for, in the file's order.
func (r *Ready) Waits() []Wait {
	var out []Wait
	if r.Deploy != "" {
		out = append(out, Wait{Group: "apps", Version: "v1", Resource: "deployments", Name: r.Deploy, Condition: "Available", Kind: "deployment", Path: "ready.deploy"})
	}
	if r.Service != "" {
		out = append(out, Wait{Version: "v1", Resource: "services", Name: r.Service, Endpoints: true, Kind: "service", Path: "ready.service"})
	}
	if r.KSvc != "" {
		out = append(out, Wait{Group: "serving.knative.dev", Version: "v1", Resource: "services", Name: r.KSvc, Condition: "Ready", Kind: "knative service", Path: "ready.ksvc"})
	}
	if r.ISvc != "" {
		out = append(out, Wait{Group: "serving.kserve.io", Version: "v1beta1", Resource: "inferenceservices", Name: r.ISvc, Condition: "Ready", Kind: "inferenceservice", Path: "ready.isvc"})
	}
	for i, o := range r.Objects {
		out = append(out, Wait{Group: o.Group, Version: o.Version, Resource: o.Resource, Name: o.Name, Condition: o.Condition, Kind: o.Resource, Path: fmt.Sprintf("ready.objects[%d]", i)})
	}
	return out
}

// TimeoutOrDefault is the timeout, 60s when unset.
func (r *Ready) TimeoutOrDefault() time.Duration {
	if r.Timeout == nil {
		return DefaultReadyTimeout
	}
	return time.Duration(*r.Timeout)
}

func (r *Ready) validate(p *problems) {
	if len(r.Waits()) == 0 {
		p.add("ready", "names no object; set deploy, service, ksvc, isvc, or objects: [{group, version, resource, name}]")
	}
	for i, o := range r.Objects {
		key := fmt.Sprintf("ready.objects[%d]", i)
		for _, f := range []struct{ name, value string }{{"version", o.Version}, {"resource", o.Resource}, {"name", o.Name}} {
			if f.value == "" {
				p.add(key+"."+f.name, "missing; write e.g. {group: apps, version: v1, resource: statefulsets, name: web}")
			}
		}
	}
	if r.Timeout != nil && (*r.Timeout <= 0 || time.Duration(*r.Timeout) > MaxReadyTimeout) {
		p.add("ready.timeout", fmt.Sprintf("%q is outside (0s, %s]; write e.g. 60s", FormatDuration(time.Duration(*r.Timeout)), FormatDuration(MaxReadyTimeout)))
	}
}
