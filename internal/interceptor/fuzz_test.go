// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/grpc/codes"
)

// FuzzProcess: whatever the body, the Ce-Type and the trigger context,
// Process answers without panicking, and anything it does not launch on
// carries a code and a message. `go test` runs the seeds; `go test -fuzz
// Process` explores.
func FuzzProcess(f *testing.F) {
	body, _ := recorded(f)
	for _, seed := range []struct{ body, ceType, triggerID string }{
		{body, "dev.knative.apiserver.resource.update", "namespaces/autox/triggers/autox"},
		{body, "", "namespaces/autox/triggers/autox"},
		{`{"type":"update","trigger":"autox-httpbin-iter8","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"httpbin","namespace":"default","labels":{"app.kubernetes.io/version":"1"}}}}`, "", "namespaces/autox/triggers/autox"},
		{`{"type":"update","trigger":"autox-httpbin-iter8","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"httpbin","namespace":"default"}}}`, "", "namespaces/autox/triggers/autox-httpbin-iter8"},
		{`{"type":"delete","object":{"metadata":null}}`, "", "namespaces/autox/triggers/x/y"},
		{`{"type":"add","object":[],"oldObject":7}`, "", ""},
		{`null`, "dev.knative.apiserver.resource.add", "namespaces/autox/triggers/autox"},
		{`{"metadata":{"labels":{"app.kubernetes.io/version":null}}}`, "dev.knative.apiserver.resource.delete", "namespaces/autox/triggers/autox"},
		{"\x00\xff", "", "namespaces/autox/triggers/autox"},
	} {
		f.Add(seed.body, seed.ceType, seed.triggerID)
	}
	fx := newFixture(f)
	fx.objects.both(dep("1"))
	fx.interceptor.Log = slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, body, ceType, triggerID string) {
		req := request(body)
		req.Context.TriggerID = triggerID
		if ceType != "" {
			req.Header = map[string][]string{"Ce-Type": {ceType}}
		}
		got := fx.interceptor.Process(context.Background(), req)
		switch {
		case got == nil:
			t.Fatal("nil response")
		case got.Continue && got.Extensions[Name] == nil:
			t.Fatalf("continue without the autox extensions: %+v", got)
		case !got.Continue && (got.Status.Code == codes.OK || got.Status.Message == ""):
			t.Fatalf("no run, but no code or message: %+v", got)
		case !got.Continue && got.Status.Code != codes.InvalidArgument && got.Status.Code != codes.FailedPrecondition:
			t.Fatalf("code %v: %+v", got.Status.Code, got)
		}
	})
}
