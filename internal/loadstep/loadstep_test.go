package loadstep

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
)

// TestSave: what a load step writes and says, by how its load ended.
func TestSave(t *testing.T) {
	sigterm := errors.New("terminated signal received")
	stopped, stop := context.WithCancelCause(context.Background())
	stop(sigterm)
	measured := func() *metrics.File {
		return &metrics.File{Task: "http", StartTime: time.Unix(0, 0).UTC(), EndTime: time.Unix(1, 0).UTC()}
	}
	type got struct {
		Err     string
		Written bool
	}
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		f      *metrics.File
		runErr error
		want   got
	}{
		{"done", context.Background(), measured(), nil, got{Written: true}},
		{"stopped, with what was measured", stopped, measured(), sigterm, got{Err: "stopped (terminated signal received); wrote what was measured until then to DIR/http.metrics.json", Written: true}},
		{"stopped, without metrics", stopped, nil, sigterm, got{Err: "stopped (terminated signal received); the load returned no metrics, so no DIR/http.metrics.json was written"}},
		{"failed", context.Background(), nil, errors.New("http-get: reading hey's report: EOF"), got{Err: "http-get: reading hey's report: EOF"}},
		{"no metrics and no error", context.Background(), nil, nil, got{Err: "the http load returned no metrics and no error; no DIR/http.metrics.json was written"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var g got
			if err := Save(tc.ctx, "http", dir, tc.f, tc.runErr); err != nil {
				g.Err = err.Error()
				if tc.ctx.Err() != nil && !errors.Is(err, sigterm) {
					t.Errorf("the error of a stopped load does not wrap the stop's cause: %v", err)
				}
			}
			if _, err := metrics.Read(metrics.PathFor(dir, experiment.TaskHTTP)); err == nil {
				g.Written = true
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("metrics file unreadable: %v", err)
			}
			tc.want.Err = strings.Replace(tc.want.Err, "DIR", dir, 1)
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestStopped(t *testing.T) {
	stopped, stop := context.WithCancelCause(context.Background())
	stop(errors.New("interrupt signal received"))
	fetch := experiment.Fieldf("http.payloadURL", `cannot fetch "http://127.0.0.1:1/p": context canceled`)
	if got, want := Stopped(stopped, fetch).Error(), "stopped (interrupt signal received) while preparing the endpoints; no load was sent"; got != want {
		t.Errorf("Stopped = %q, want %q", got, want)
	}
	if experiment.IsInput(Stopped(stopped, fetch)) {
		t.Error("a stop while preparing is reported as bad input (exit 2)")
	}
	if got := Stopped(context.Background(), fetch); got != error(fetch) {
		t.Errorf("Stopped without a stop = %v, want the error itself", got)
	}
}
