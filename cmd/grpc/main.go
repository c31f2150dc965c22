// Command grpc is the grpc step: it sends the experiment's gRPC load through
// bojand/ghz and writes <dir>/grpc.metrics.json.
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
	code := cli.Exit("grpc", loadstep.Main(ctx, "grpc", os.Args[1:], os.Stderr, os.Getenv), os.Stderr)
	stop()
	os.Exit(code)
}
