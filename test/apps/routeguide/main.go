// Command routeguide serves the sample routeguide gRPC service (with
// reflection) that autox's tests and demo load.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/autox-tekton/autox/test/apps/routeguide/app"
)

func main() {
	fs := flag.NewFlagSet("routeguide", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:50051", "listen address (env ROUTEGUIDE_ADDR)")
	fs.Parse(os.Args[1:])
	if v := os.Getenv("ROUTEGUIDE_ADDR"); v != "" {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "addr" })
		if !set {
			*addr = v
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "routeguide:", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, addr string) error {
	s, err := app.New()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("routeguide listening on %s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		s.GRPC.GracefulStop()
	}()
	return s.GRPC.Serve(ln)
}
