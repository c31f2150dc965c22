// Package loadstep is what the load steps' commands (http, grpc) run:
// prepare an experiment's endpoints (all bad input is found here, before
// any load), send the load, and write <dir>/<task>.metrics.json. It does
// not link the Kubernetes client, so the load step images stay small.
package loadstep

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/grpcload"
	"github.com/autox-tekton/autox/internal/httpload"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/metrics"
)

// Steps carries what every step needs.
type Steps struct {
	Log *slog.Logger
	// Client fetches payloadURL documents.
	Client *http.Client
	// ProgressEvery is the interval of progress lines (0: 5s).
	ProgressEvery time.Duration
}

// PrepareHTTP resolves the http task's endpoints and loads their payloads.
// Every failure is bad input, found before any load is sent.
func (s Steps) PrepareHTTP(ctx context.Context, e *experiment.Experiment) ([]experiment.HTTPEndpoint, error) {
	if e.HTTP == nil {
		return nil, experiment.Fieldf("http", "missing; add an http section with url or endpoints")
	}
	eps := e.HTTPEndpoints()
	if err := experiment.LoadPayloads(ctx, s.Client, eps); err != nil {
		return nil, err
	}
	for _, ep := range eps {
		if strings.HasPrefix(ep.URL, "https:") {
			s.Log.Warn(fmt.Sprintf("%s: TLS certificates are not verified: hey, which sends the load, always skips verification", ep.MetricPrefix()))
		}
	}
	return eps, nil
}

// HTTP sends the load and writes dir/http.metrics.json.
func (s Steps) HTTP(ctx context.Context, eps []experiment.HTTPEndpoint, dir string) error {
	w := &httpload.Work{Endpoints: eps, Log: s.Log, ProgressEvery: s.ProgressEvery}
	f, err := w.Run(ctx)
	if err != nil {
		return err
	}
	return metrics.Write(metrics.PathFor(dir, experiment.TaskHTTP), f)
}

// PrepareGRPC resolves the grpc task's endpoints: payloads, protos and
// methods. Every failure is bad input, found before any load is sent.
func (s Steps) PrepareGRPC(ctx context.Context, e *experiment.Experiment) ([]grpcload.Endpoint, error) {
	if e.GRPC == nil {
		return nil, experiment.Fieldf("grpc", "missing; add a grpc section with host and call or endpoints")
	}
	return grpcload.Prepare(ctx, s.Client, e.GRPCEndpoints())
}

// GRPC sends the load and writes dir/grpc.metrics.json.
func (s Steps) GRPC(ctx context.Context, eps []grpcload.Endpoint, dir string) error {
	w := &grpcload.Work{Endpoints: eps, Log: s.Log, ProgressEvery: s.ProgressEvery}
	f, err := w.Run(ctx)
	if err != nil {
		return err
	}
	return metrics.Write(metrics.PathFor(dir, experiment.TaskGRPC), f)
}

// Main is the whole of a load step's command (http, grpc): its flags,
// then prepare (all bad input found here) and load, writing
// <dir>/<task>.metrics.json.
func Main(ctx context.Context, task string, args []string, stderr io.Writer, getenv func(string) string) error {
	env := map[string]string{"f": "AUTOX_EXPERIMENT_FILE", "dir": "AUTOX_DIR", "progress": "AUTOX_PROGRESS_INTERVAL"}
	fs := flag.NewFlagSet(task, flag.ContinueOnError)
	file := fs.String("f", "experiment.yaml", "experiment file")
	dir := fs.String("dir", ".", "folder to write "+task+".metrics.json into")
	every := fs.Duration("progress", 5*time.Second, "interval of progress lines")
	fs.Usage = func() {
		cli.Usage(stderr, fs, fmt.Sprintf("%s: send an experiment's %s load and write its metrics", task, task), env)
	}
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	e, err := experiment.Load(*file)
	if err != nil {
		return err
	}
	s := Steps{Log: logging.New(stderr, slog.LevelInfo), Client: &http.Client{}, ProgressEvery: *every}
	switch task {
	case experiment.TaskHTTP:
		eps, err := s.PrepareHTTP(ctx, e)
		if err != nil {
			return err
		}
		return s.HTTP(ctx, eps, *dir)
	case experiment.TaskGRPC:
		eps, err := s.PrepareGRPC(ctx, e)
		if err != nil {
			return err
		}
		return s.GRPC(ctx, eps, *dir)
	}
	return fmt.Errorf("no load step named %q", task)
}
