// Command bench measures autox's load steps against their peers in the
// same run: cmd/http against the hey CLI, and cmd/grpc against the ghz CLI,
// each built from the same module version, on the same loopback server
// with the same connections (concurrency), in both modes: a request count
// (-n) and a duration (-z). Rounds alternate the tools so that drift hits
// both; each row's figure is the median of the per-round ratios.
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
	z := flag.Duration("z", 4*time.Second, "duration of each run in duration mode")
	c := flag.Int("c", 16, "connections (HTTP) and concurrency (gRPC)")
	rounds := flag.Int("rounds", 5, "rounds; each runs both tools once")
	flag.Parse()
	var rows []string
	for _, mode := range []mode{{n: *n}, {z: *z}} {
		row, err := runHTTP(*bin, mode, *c, *rounds)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		rows = append(rows, row)
		fmt.Println()
	}
	for _, mode := range []mode{{n: *n}, {z: *z}} {
		row, err := runGRPC(*bin, mode, *c, *rounds)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		rows = append(rows, row)
		fmt.Println()
	}
	fmt.Println("summary (median ratio of requests/s, ours / theirs; goal: about 1.0 by count, 0.95 or more by duration)")
	for _, r := range rows {
		fmt.Println("  " + r)
	}
}

// mode is a request count (n) or a duration (z).
type mode struct {
	n int
	z time.Duration
}

func (m mode) String() string {
	if m.z > 0 {
		return "-z " + m.z.String()
	}
	return "-n " + strconv.Itoa(m.n)
}

// flag is the CLI flag for the mode (hey and ghz both take -n and -z).
func (m mode) flag() []string {
	if m.z > 0 {
		return []string{"-z", m.z.String()}
	}
	return []string{"-n", strconv.Itoa(m.n)}
}

// roundsOf runs ours and theirs alternately, prints each ratio, and
// returns the median.
func roundsOf(n int, ourName, theirName string, ours, theirs func() (float64, error)) (float64, error) {
	fmt.Printf("%-6s %16s %16s %8s\n", "round", ourName+" r/s", theirName+" r/s", "ratio")
	var ratios []float64
	for i := 1; i <= n; i++ {
		first, second := ours, theirs
		if i%2 == 0 {
			first, second = theirs, ours
		}
		a, err := first()
		if err != nil {
			return 0, err
		}
		b, err := second()
		if err != nil {
			return 0, err
		}
		o, t := a, b
		if i%2 == 0 {
			o, t = b, a
		}
		ratios = append(ratios, o/t)
		fmt.Printf("%-6d %16.0f %16.0f %8.3f\n", i, o, t, o/t)
	}
	slices.Sort(ratios)
	median := ratios[len(ratios)/2]
	fmt.Printf("median ratio %s / %s: %.3f\n", ourName, theirName, median)
	return median, nil
}

func runHTTP(bin string, m mode, c, rounds int) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: app.New(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	url := "http://" + ln.Addr().String() + "/get"

	work, err := os.MkdirTemp("", "autox-bench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	exp := filepath.Join(work, "experiment.yaml")
	amount := fmt.Sprintf("numRequests: %d", m.n)
	if m.z > 0 {
		amount = "duration: " + m.z.String()
	}
	spec := fmt.Sprintf("tasks: [http]\nhttp:\n  url: %s\n  %s\n  connections: %d\n  qps: unlimited\n", url, amount, c)
	if err := os.WriteFile(exp, []byte(spec), 0o644); err != nil {
		return "", err
	}

	fmt.Printf("HTTP load, GET %s, hey %s on %d connections, %d rounds\n", url, m, c, rounds)
	median, err := roundsOf(rounds, "cmd/http", "hey", func() (float64, error) { return ourRPS(bin, "http", exp, work) },
		func() (float64, error) { return heyRPS(bin, url, m, c) })
	return fmt.Sprintf("%-34s %.3f", fmt.Sprintf("http  cmd/http / hey %s -c %d", m, c), median), err
}

func runGRPC(bin string, m mode, c, rounds int) (string, error) {
	s, host, err := routeguide.Start("127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer s.GRPC.Stop()
	work, err := os.MkdirTemp("", "autox-bench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	proto := filepath.Join(work, routeguide.ProtoName)
	if err := os.WriteFile(proto, []byte(routeguide.Proto), 0o644); err != nil {
		return "", err
	}
	const call, data = "routeguide.RouteGuide.GetFeature", `{"latitude": 407838351, "longitude": -746143763}`
	exp := filepath.Join(work, "experiment.yaml")
	amount := fmt.Sprintf("total: %d", m.n)
	if m.z > 0 {
		amount = "duration: " + m.z.String()
	}
	spec := fmt.Sprintf("tasks: [grpc]\ngrpc:\n  host: %s\n  call: %s\n  protoFile: %s\n  data: %s\n  %s\n  concurrency: %d\n", host, call, proto, data, amount, c)
	if err := os.WriteFile(exp, []byte(spec), 0o644); err != nil {
		return "", err
	}
	fmt.Printf("gRPC load, %s at %s, ghz %s, concurrency %d, 1 connection, %d rounds\n", call, host, m, c, rounds)
	median, err := roundsOf(rounds, "cmd/grpc", "ghz", func() (float64, error) { return ourRPS(bin, "grpc", exp, work) },
		func() (float64, error) { return ghzRPS(bin, host, proto, call, data, m, c) })
	return fmt.Sprintf("%-34s %.3f", fmt.Sprintf("grpc  cmd/grpc / ghz %s -c %d", m, c), median), err
}

// ghzRPS runs the ghz CLI and reads rps from its JSON report. By duration,
// calls in flight at the end finish (as ours do) rather than fail.
func ghzRPS(bin, host, proto, call, data string, m mode, c int) (float64, error) {
	args := append([]string{"--insecure", "--proto", proto, "--call", call, "-d", data, "-c", strconv.Itoa(c), "-O", "json"}, m.flag()...)
	if m.z > 0 {
		args = append(args, "--duration-stop", "wait")
	}
	cmd := exec.Command(filepath.Join(bin, "ghz"), append(args, host)...)
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
	if len(rep.ErrorDist) > 0 || (m.z == 0 && rep.Count != m.n) {
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
func heyRPS(bin, url string, m mode, c int) (float64, error) {
	cmd := exec.Command(filepath.Join(bin, "hey"), append(append(m.flag(), "-c", strconv.Itoa(c)), url)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("hey: %v\n%s", err, out.String())
	}
	rate := heyRate.FindSubmatch(out.Bytes())
	if rate == nil {
		return 0, fmt.Errorf("hey printed no Requests/sec:\n%s", out.String())
	}
	if bytes.Contains(out.Bytes(), []byte("Error distribution")) {
		return 0, fmt.Errorf("hey saw errors:\n%s", out.String())
	}
	return strconv.ParseFloat(string(rate[1]), 64)
}
