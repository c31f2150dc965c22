// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTaskFilesAndMetadataURLs: a Trigger's experiment runs in the Task,
// which reads files only from its data workspace and never fetches a
// document from a link-local address; autox generate says so at once.
func TestTaskFilesAndMetadataURLs(t *testing.T) {
	base := []string{
		"--set", "groups.httpbin.trigger.name=httpbin", "--set", "groups.httpbin.trigger.namespace=default",
		"--set", "groups.httpbin.trigger.group=apps", "--set", "groups.httpbin.trigger.version=v1",
		"--set", "groups.httpbin.trigger.resource=deployments",
		"--set", "groups.httpbin.specs.iter8.values.tasks={http,assess}",
		"--set", "groups.httpbin.specs.iter8.values.http.url=http://httpbin.default/post",
	}
	const spec = "groups.httpbin.specs.iter8.values: "
	for _, tc := range []struct {
		name string
		set  string
		want string
	}{{
		name: "the pod's token as a payload",
		set:  "groups.httpbin.specs.iter8.values.http.payloadFile=/var/run/secrets/kubernetes.io/serviceaccount/token",
		want: spec + `http.payloadFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" is an absolute path, and the Task reads files only from its data workspace; write the path relative to the workspace, e.g. payload.json, and put the file there`,
	}, {
		name: "a payload out of the workspace",
		set:  "groups.httpbin.specs.iter8.values.http.payloadFile=../etc/passwd",
		want: spec + `http.payloadFile: "../etc/passwd" leads out of the Task's data workspace, the only files the Task reads; write a path inside it, relative to it, e.g. payload.json`,
	}, {
		name: "the cloud's metadata as a payload",
		set:  "groups.httpbin.specs.iter8.values.http.payloadURL=http://169.254.169.254/latest/meta-data/",
		want: spec + `http.payloadURL: "http://169.254.169.254/latest/meta-data/" is a link-local address (cloud metadata); fetch documents from a service address`,
	}, {
		name: "a payload in the workspace",
		set:  "groups.httpbin.specs.iter8.values.http.payloadFile=payloads/body.json",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := FromArgs(append(append([]string{}, base...), "--set", tc.set))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if (err == nil) != strings.Contains(string(out), "kind: Trigger") {
				t.Errorf("printed a Trigger: %v, want one exactly when the values are good", strings.Contains(string(out), "kind: Trigger"))
			}
		})
	}
}
