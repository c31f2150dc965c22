package run

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/logging"
)

// LoadStep is the whole of a load step's command (http, grpc): its flags,
// then prepare (all bad input found here) and load, writing
// <dir>/<task>.metrics.json.
func LoadStep(ctx context.Context, task string, args []string, stderr io.Writer, getenv func(string) string) error {
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
