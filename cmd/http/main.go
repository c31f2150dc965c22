// Command http is the http step: it sends the experiment's HTTP load through
// rakyll/hey and writes <dir>/http.metrics.json.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/loadstep"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Exit("http", loadstep.Main(ctx, "http", os.Args[1:], os.Stderr, os.Getenv), os.Stderr)
	stop()
	os.Exit(code)
}
