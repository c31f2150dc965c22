package interceptor

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
)

// FuzzProcess: whatever the body and the Ce-Type, Process answers
// without panicking, and anything it does not launch on carries a code
// and a message. `go test` runs the seeds; `go test -fuzz Process` explores.
func FuzzProcess(f *testing.F) {
	body, _ := recorded(f)
	for _, seed := range []struct{ body, ceType string }{
		{body, "dev.knative.apiserver.resource.update"},
		{body, ""},
		{`{"type":"update","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"httpbin","namespace":"default","labels":{"app.kubernetes.io/version":"1"}}}}`, ""},
		{`{"type":"delete","object":{"metadata":null}}`, ""},
		{`{"type":"add","object":[],"oldObject":7}`, ""},
		{`null`, "dev.knative.apiserver.resource.add"},
		{`{"metadata":{"labels":{"app.kubernetes.io/version":null}}}`, "dev.knative.apiserver.resource.delete"},
		{"\x00\xff", ""},
	} {
		f.Add(seed.body, seed.ceType)
	}
	fx := newFixture(f, httpbinRun("r1", "1", 1, "running"))
	fx.interceptor.Log = discardLogger()
	f.Fuzz(func(t *testing.T, body, ceType string) {
		var header map[string][]string
		if ceType != "" {
			header = map[string][]string{"Ce-Type": {ceType}}
		}
		got := fx.interceptor.Process(context.Background(), request(body, header))
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
