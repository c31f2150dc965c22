// Command http is the http step: it sends the experiment's HTTP load
// through rakyll/hey and writes <dir>/http.metrics.json.
package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/run"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Exit("http", runHTTP(ctx, os.Args[1:], os.Stderr, os.Getenv), os.Stderr)
	stop()
	os.Exit(code)
}

func runHTTP(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	env := map[string]string{"f": "AUTOX_EXPERIMENT_FILE", "dir": "AUTOX_DIR", "progress": "AUTOX_PROGRESS_INTERVAL"}
	fs := flag.NewFlagSet("http", flag.ContinueOnError)
	file := fs.String("f", "experiment.yaml", "experiment file")
	dir := fs.String("dir", ".", "folder to write http.metrics.json into")
	every := fs.Duration("progress", 5*time.Second, "interval of progress lines")
	fs.Usage = func() { cli.Usage(stderr, fs, "http: send an experiment's HTTP load and write its metrics", env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		if err == flag.ErrHelp {
			fs.Usage()
		}
		return err
	}
	e, err := experiment.Load(*file)
	if err != nil {
		return err
	}
	steps := run.Steps{Log: logging.New(stderr, slog.LevelInfo), Client: &http.Client{}, ProgressEvery: *every}
	eps, err := steps.PrepareHTTP(ctx, e)
	if err != nil {
		return err
	}
	return steps.HTTP(ctx, eps, *dir)
}
