// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/autox-tekton/autox/internal/contract"
)

// Knative ApiServerSource event types (mode: Resource); mode Reference
// sends ...apiserver.ref.* with no labels.
const (
	ceTypePrefix    = "dev.knative.apiserver.resource."
	ceRefTypePrefix = "dev.knative.apiserver.ref."
)

// event is a parsed body, from either sender: a hint of which object to
// look at, for which Trigger.
type event struct {
	contract.Event
	// Source says who sent it, for logs: "watcher" or "ApiServerSource".
	Source string
}

// parseEvent reads the body: an ApiServerSource CloudEvent when the
// headers carry Ce-Type, else the watcher's contract.Event.
func parseEvent(body string, header http.Header) (event, error) {
	if ceType := header.Get("Ce-Type"); ceType != "" {
		return parseCloudEvent(body, ceType)
	}
	ev, err := contract.ParseEvent([]byte(body))
	return event{Event: ev, Source: "watcher"}, err
}

func parseCloudEvent(body, ceType string) (event, error) {
	if strings.HasPrefix(ceType, ceRefTypePrefix) {
		return event{}, fmt.Errorf("Ce-Type %q is a reference event, which carries no labels; set the ApiServerSource's mode to Resource", ceType)
	}
	typ, ok := strings.CutPrefix(ceType, ceTypePrefix)
	if !ok || (typ != contract.Add && typ != contract.Update && typ != contract.Delete) {
		return event{}, fmt.Errorf("Ce-Type %q is not an ApiServerSource resource event; want %sadd, update or delete", ceType, ceTypePrefix)
	}
	if strings.TrimSpace(body) == "" {
		return event{}, fmt.Errorf("body: object is missing; an ApiServerSource %s event carries the object as its body", typ)
	}
	var o contract.ObjectRef
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return event{}, fmt.Errorf("body is not JSON: %v", err)
		}
		return event{}, fmt.Errorf("body is not a Kubernetes object: %v", err)
	}
	switch {
	case o.Metadata.Name == "":
		return event{}, errors.New("body.metadata.name is missing")
	case o.APIVersion == "" || o.Kind == "":
		return event{}, errors.New("body has no apiVersion or kind; send the object as the API server serves it")
	}
	if err := contract.CheckObjectRef("body", o); err != nil {
		return event{}, err
	}
	return event{Event: contract.Event{Type: typ, Object: o}, Source: "ApiServerSource"}, nil
}
