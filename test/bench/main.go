// Command bench measures autox's load steps against their peers in the
// same run: cmd/http against the hey CLI, and cmd/grpc against the ghz CLI,
// each built from the same module version, on the same loopback server
// with the same connections (concurrency) and request count. Rounds
// alternate the tools so that drift hits both; the figure is the median of
// the per-round ratios.
package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	routeguide "github.com/autox-tekton/autox/test/apps/routeguide/app"
)

func main() {
	bin := flag.String("bin", "bin", "folder with the http and hey binaries")
	n := flag.Int("n", 20000, "requests (calls) per run")
	c := flag.Int("c", 16, "connections (HTTP) and concurrency (gRPC)")
	rounds := flag.Int("rounds", 5, "rounds; each runs both tools once")
	flag.Parse()
	if err := runHTTP(*bin, *n, *c, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Println()
	if err := runGRPC(*bin, *n, *c, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// roundsOf runs ours and theirs alternately and prints each ratio and the median.
func roundsOf(n int, ourName, theirName string, ours, theirs func() (float64, error)) error {
	fmt.Printf("%-6s %16s %16s %8s\n", "round", ourName+" r/s", theirName+" r/s", "ratio")
	var ratios []float64
	for i := 1; i <= n; i++ {
		first, second := ours, theirs
		if i%2 == 0 {
			first, second = theirs, ours
		}
		a, err := first()
		if err != nil {
			return err
		}
		b, err := second()
		if err != nil {
			return err
		}
		o, t := a, b
		if i%2 == 0 {
			o, t = b, a
		}
		ratios = append(ratios, o/t)
		fmt.Printf("%-6d %16.0f %16.0f %8.3f\n", i, o, t, o/t)
	}
	slices.Sort(ratios)
	fmt.Printf("median ratio %s / %s: %.3f (goal >= 1.0)\n", ourName, theirName, ratios[len(ratios)/2])
	return nil
}

func runHTTP(bin string, n, c, rounds int) error {
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
	return roundsOf(rounds, "cmd/http", "hey", func() (float64, error) { return ourRPS(bin, "http", exp, work) },
		func() (float64, error) { return heyRPS(bin, url, n, c) })
}

func runGRPC(bin string, n, c, rounds int) error {
	s, host, err := routeguide.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer s.GRPC.Stop()
	work, err := os.MkdirTemp("", "autox-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	proto := filepath.Join(work, routeguide.ProtoName)
	if err := os.WriteFile(proto, []byte(routeguide.Proto), 0o644); err != nil {
		return err
	}
	const call, data = "routeguide.RouteGuide.GetFeature", `{"latitude": 407838351, "longitude": -746143763}`
	exp := filepath.Join(work, "experiment.yaml")
	spec := fmt.Sprintf("tasks: [grpc]\ngrpc:\n  host: %s\n  call: %s\n  protoFile: %s\n  data: %s\n  total: %d\n  concurrency: %d\n", host, call, proto, data, n, c)
	if err := os.WriteFile(exp, []byte(spec), 0o644); err != nil {
		return err
	}
	fmt.Printf("gRPC load, %s at %s, %d calls, concurrency %d, 1 connection, %d rounds\n", call, host, n, c, rounds)
	return roundsOf(rounds, "cmd/grpc", "ghz", func() (float64, error) { return ourRPS(bin, "grpc", exp, work) },
		func() (float64, error) { return ghzRPS(bin, host, proto, call, data, n, c) })
}

// ghzRPS runs the ghz CLI and reads rps from its JSON report.
func ghzRPS(bin, host, proto, call, data string, n, c int) (float64, error) {
	cmd := exec.Command(filepath.Join(bin, "ghz"), "--insecure", "--proto", proto, "--call", call, "-d", data,
		"-n", strconv.Itoa(n), "-c", strconv.Itoa(c), "-O", "json", host)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("ghz: %v\n%s", err, errs.String())
	}
	var rep struct {
		Count     int            `json:"count"`
		Rps       float64        `json:"rps"`
		ErrorDist map[string]int `json:"errorDistribution"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return 0, fmt.Errorf("ghz report: %v", err)
	}
	if len(rep.ErrorDist) > 0 || rep.Count != n {
		return 0, fmt.Errorf("ghz made %d calls with errors %v", rep.Count, rep.ErrorDist)
	}
	return rep.Rps, nil
}

// ourRPS runs cmd/<task> and reads requests/s from its metrics file.
func ourRPS(bin, task, exp, dir string) (float64, error) {
	cmd := exec.Command(filepath.Join(bin, task), "-f", exp, "-dir", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("cmd/%s: %v\n%s", task, err, out)
	}
	f, err := metrics.Read(metrics.PathFor(dir, task))
	if err != nil {
		return 0, err
	}
	e := f.Endpoints[0]
	if e.ErrorCount > 0 {
		return 0, fmt.Errorf("cmd/%s saw %d errors: %v", task, e.ErrorCount, e.Errors)
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
