// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Event types. They are for logs: the interceptor decides from the
// object as the cluster holds it, whatever the event says.
const (
	Add    = "add"
	Update = "update"
	Delete = "delete"
	// Resync is the watcher asking again because the record does not
	// show the object's version yet (or a periodic re-send).
	Resync = "resync"
)

// Event is what the watcher posts to the EventListener: "look at this
// object for this Trigger now". It carries the object's metadata only
// (no spec, status or managedFields), and of its labels only the version
// label: a hint of what changed, never the fact.
//
//	{"type": "update", "trigger": "autox-httpbin-iter8",
//	 "object": {"apiVersion": "apps/v1", "kind": "Deployment",
//	            "metadata": {"name": "httpbin", "namespace": "default", "uid": "...",
//	                         "resourceVersion": "123", "labels": {"app.kubernetes.io/version": "2.0.0"}}}}
type Event struct {
	Type string `json:"type"`
	// Trigger names the group's Trigger (in the EventListener's namespace).
	Trigger string    `json:"trigger"`
	Object  ObjectRef `json:"object"`
}

// ObjectRef is a trigger object as an event names it.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   Meta   `json:"metadata"`
}

// Meta is the part of an object's metadata an event carries.
type Meta struct {
	Name            string            `json:"name"`
	Namespace       string            `json:"namespace,omitempty"`
	UID             string            `json:"uid,omitempty"`
	ResourceVersion string            `json:"resourceVersion,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
}

// Version is the version label the event saw ("" when none).
func (o ObjectRef) Version() string { return o.Metadata.Labels[VersionLabel] }

// String names the object as kubectl would: apps/v1 Deployment default/httpbin.
func (o ObjectRef) String() string {
	return fmt.Sprintf("%s %s %s/%s", o.APIVersion, o.Kind, o.Metadata.Namespace, o.Metadata.Name)
}

// ID names this state of the object, for logs: uid-resourceVersion.
func (e Event) ID() string { return e.Object.Metadata.UID + "-" + e.Object.Metadata.ResourceVersion }

var eventFields = []string{"type", "trigger", "object"}

// ParseEvent reads the watcher's body, refusing unknown fields; every
// error names the field and says what is wanted.
func ParseEvent(body []byte) (Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		if strings.HasPrefix(err.Error(), `json: unknown field "`) {
			return Event{}, fmt.Errorf("body: %s; the body is {type, trigger, object}", jsonProblem(err, eventFields, "", nil))
		}
		return Event{}, fmt.Errorf("body is not JSON: %s", jsonProblem(err, nil, "", nil))
	}
	if end := dec.InputOffset(); !atEOF(dec) {
		return Event{}, fmt.Errorf("body: more follows the JSON object, which ends at byte %d; send one object", end)
	}
	switch ev.Type {
	case Add, Update, Delete, Resync:
	case "":
		return Event{}, errors.New(`body: type is missing; want "add", "update", "delete" or "resync"`)
	default:
		return Event{}, fmt.Errorf(`body: type %s is not "add", "update", "delete" or "resync"`, Quote(ev.Type))
	}
	switch {
	case ev.Trigger == "":
		return Event{}, errors.New("body: trigger is missing; name the group's Trigger, e.g. autox-httpbin-iter8")
	case len(ev.Trigger) > validation.DNS1123SubdomainMaxLength:
		return Event{}, fmt.Errorf("body: trigger: %s is longer than a Trigger's name may be (%d); name the group's Trigger, e.g. autox-httpbin-iter8", Quote(ev.Trigger), validation.DNS1123SubdomainMaxLength)
	case ev.Object.Metadata.Name == "":
		return Event{}, errors.New("body: object.metadata.name is missing")
	case ev.Object.APIVersion == "" || ev.Object.Kind == "":
		return Event{}, errors.New("body: object has no apiVersion or kind; send them as the API server serves the object")
	}
	if err := CheckObjectRef("body: object", ev.Object); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// atEOF says whether nothing but white space is left to dec.
func atEOF(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err == io.EOF
}

// CheckObjectRef refuses an event's object whose apiVersion, kind, name,
// namespace or version label could not be an object's in a cluster, or
// could not be set as a run's labels (a name longer than 63 characters, a
// newline in a version): the event is bad, before anything is decided.
// prefix names the object in messages ("body: object").
func CheckObjectRef(prefix string, o ObjectRef) error {
	const resend = "send the object as the API server serves it"
	if gv, err := schema.ParseGroupVersion(o.APIVersion); err != nil || gv.Version == "" ||
		(gv.Group != "" && len(validation.IsDNS1123Subdomain(gv.Group)) > 0) || len(validation.IsDNS1123Label(gv.Version)) > 0 {
		return fmt.Errorf("%s.apiVersion: %s is not an API version (version, or group/version, e.g. apps/v1); %s", prefix, Quote(o.APIVersion), resend)
	}
	if !kindPattern.MatchString(o.Kind) {
		return fmt.Errorf("%s.kind: %s is not a kind (a letter, then letters and digits, at most 63, e.g. Deployment); %s", prefix, Quote(o.Kind), resend)
	}
	if err := CheckLabelValue(prefix+".metadata.name", o.Metadata.Name); err != nil {
		return fmt.Errorf("%w; autox sets the name as the run's label %s, so it tests only objects with such names", err, TestedNameLabel)
	}
	if o.Metadata.Namespace != "" && len(validation.IsDNS1123Label(o.Metadata.Namespace)) > 0 {
		return fmt.Errorf("%s.metadata.namespace: %s is not a namespace (at most 63 characters: lower-case letters, digits and '-', beginning and ending with a letter or digit); %s", prefix, Quote(o.Metadata.Namespace), resend)
	}
	if v, ok := o.Metadata.Labels[VersionLabel]; ok {
		if err := CheckLabelValue(prefix+".metadata.labels["+VersionLabel+"]", v); err != nil {
			return fmt.Errorf("%w; %s", err, resend)
		}
	}
	return nil
}

// kindPattern is what a kind looks like (Deployment, NetworkPolicy).
var kindPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,62}$`)

// CheckLabelValue refuses a value that is not a valid Kubernetes label
// value: one line naming field, the value (cut when long) and the rule,
// to which the caller adds the fix.
func CheckLabelValue(field, value string) error {
	if len(validation.IsValidLabelValue(value)) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s is not a valid label value (at most 63 characters: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit)", field, Quote(value))
}

// maxQuoted is how many bytes of a value messages quote.
const maxQuoted = 64

// Quote quotes a value for a message, as %q does, cut to its first
// maxQuoted bytes (and the length said) when it is longer: a message is
// one line of reasonable length whatever it was sent.
func Quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(s[:cut]), len(s))
}
