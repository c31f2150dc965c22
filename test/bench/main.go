// Command bench measures autox's load steps against their peers in the
// same run: cmd/http against the hey CLI built from the same module
// version, on the same loopback server with the same connections and
// request count. Rounds alternate the tools so that drift hits both; the
// figure is the median of the per-round ratios.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/test/apps/httpbin/app"
)

func main() {
	bin := flag.String("bin", "bin", "folder with the http and hey binaries")
	n := flag.Int("n", 20000, "requests per run")
	c := flag.Int("c", 16, "connections")
	rounds := flag.Int("rounds", 5, "rounds; each runs both tools once")
	flag.Parse()
	if err := run(*bin, *n, *c, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin string, n, c, rounds int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: app.New(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	url := "http://" + ln.Addr().String() + "/get"

	work, err := os.MkdirTemp("", "autox-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	exp := filepath.Join(work, "experiment.yaml")
	spec := fmt.Sprintf("tasks: [http]\nhttp:\n  url: %s\n  numRequests: %d\n  connections: %d\n  qps: unlimited\n", url, n, c)
	if err := os.WriteFile(exp, []byte(spec), 0o644); err != nil {
		return err
	}

	fmt.Printf("HTTP load, GET %s, %d requests on %d connections, %d rounds\n", url, n, c, rounds)
	fmt.Printf("%-6s %14s %14s %8s\n", "round", "cmd/http r/s", "hey CLI r/s", "ratio")
	var ratios []float64
	for i := 1; i <= rounds; i++ {
		// Alternate which tool goes first.
		var ours, theirs float64
		if i%2 == 1 {
			if ours, err = ourRPS(bin, exp, work); err == nil {
				theirs, err = heyRPS(bin, url, n, c)
			}
		} else {
			if theirs, err = heyRPS(bin, url, n, c); err == nil {
				ours, err = ourRPS(bin, exp, work)
			}
		}
		if err != nil {
			return err
		}
		ratios = append(ratios, ours/theirs)
		fmt.Printf("%-6d %14.0f %14.0f %8.3f\n", i, ours, theirs, ours/theirs)
	}
	slices.Sort(ratios)
	fmt.Printf("median ratio cmd/http / hey: %.3f (goal >= 1.0)\n", ratios[len(ratios)/2])
	return nil
}

// ourRPS runs cmd/http and reads requests/s from its metrics file.
func ourRPS(bin, exp, dir string) (float64, error) {
	cmd := exec.Command(filepath.Join(bin, "http"), "-f", exp, "-dir", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("cmd/http: %v\n%s", err, out)
	}
	f, err := metrics.Read(metrics.PathFor(dir, "http"))
	if err != nil {
		return 0, err
	}
	e := f.Endpoints[0]
	if e.ErrorCount > 0 {
		return 0, fmt.Errorf("cmd/http saw %d errors: %v", e.ErrorCount, e.Errors)
	}
	return float64(e.RequestCount) / e.DurationSeconds, nil
}

var heyRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// heyRPS runs the hey CLI and reads its Requests/sec line.
func heyRPS(bin, url string, n, c int) (float64, error) {
	cmd := exec.Command(filepath.Join(bin, "hey"), "-n", strconv.Itoa(n), "-c", strconv.Itoa(c), url)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("hey: %v\n%s", err, out.String())
	}
	m := heyRate.FindSubmatch(out.Bytes())
	if m == nil {
		return 0, fmt.Errorf("hey printed no Requests/sec:\n%s", out.String())
	}
	if bytes.Contains(out.Bytes(), []byte("Error distribution")) {
		return 0, fmt.Errorf("hey saw errors:\n%s", out.String())
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
