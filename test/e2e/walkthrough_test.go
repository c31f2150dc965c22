// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

// The README's walkthrough, as a user types it: the seed's own `helm
// install ... --set` lines with `helm install` replaced by `autox
// generate`, piped to kubectl; kubectl label; autox assert; autox report;
// a relabel to a slower version; a comparison; a notification.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// autoxCLI builds cmd/autox once per test binary.
var (
	autoxOnce sync.Once
	autoxBin  string
	autoxErr  error
)

func autoxCLI(t *testing.T) string {
	t.Helper()
	autoxOnce.Do(func() {
		dir, err := os.MkdirTemp("", "autox-e2e-")
		if err != nil {
			autoxErr = err
			return
		}
		autoxBin = filepath.Join(dir, "autox")
		out, err := exec.Command("go", "build", "-o", autoxBin, "github.com/autox-tekton/autox/cmd/autox").CombinedOutput()
		if err != nil {
			autoxErr = fmt.Errorf("go build ./cmd/autox: %v\n%s", err, out)
		}
	})
	if autoxErr != nil {
		t.Fatal(autoxErr)
	}
	return autoxBin
}

// autoxRun runs the autox CLI against the test cluster.
func autoxRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	step(t, "autox %s", strings.Join(args, " "))
	cmd := exec.Command(autoxCLI(t), args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("autox %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

// seedGenerate runs the seed's helm command line (internal/generate's test
// data, copied from the seed's text) through bash with `helm install`
// replaced by `autox generate`, and applies what it prints.
func seedGenerate(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "generate", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Replace(string(b), "helm install", autoxCLI(t)+" generate", 1)
	step(t, "the seed's command with autox generate: %s", file)
	cmd := exec.Command("bash", "-c", line)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("autox generate (%s): %v\n%s", file, err, e.String())
	}
	t.Logf("autox generate said:\n%s", e.String())
	step(t, "autox generate ... | kubectl apply -f -")
	if out, err := kubectl(t, o.String(), "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	return o.String()
}

// receiver listens for webhook posts on the CNI bridge's address: this
// machine, reachable from the pods, not from elsewhere.
type receiver struct {
	URL    string
	mu     sync.Mutex
	bodies []string
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	// test/cluster/lib.sh's BRIDGE; e2e.sh passes it on.
	bridge := os.Getenv("AUTOX_BRIDGE")
	if bridge == "" {
		bridge = "autox0"
	}
	ifc, err := net.InterfaceByName(bridge)
	if err != nil {
		t.Fatalf("the cluster's CNI bridge %s (the pods' way to this machine): %v", bridge, err)
	}
	addrs, _ := ifc.Addrs()
	var ip net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			ip = n.IP
		}
	}
	if ip == nil {
		t.Fatalf("the bridge %s has no IPv4 address: %v", bridge, addrs)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{URL: "http://" + ln.Addr().String() + "/hook"}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return r
}

// waitBody waits for a posted body holding every part.
func (r *receiver) waitBody(t *testing.T, parts ...string) string {
	t.Helper()
	var found string
	waitFor(t, 2*time.Minute, "a notification with "+strings.Join(parts, ", "), func() (bool, string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, b := range r.bodies {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(b, p)
			}
			if ok {
				found = b
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d bodies: %v", len(r.bodies), r.bodies)
	})
	var v map[string]any
	if err := json.Unmarshal([]byte(found), &v); err != nil {
		t.Errorf("the notification is not JSON: %v\n%s", err, found)
	}
	return found
}

func TestWalkthrough(t *testing.T) {
	c := triggersUp(t)
	unlabel(t, "httpbin")
	kubectl(t, "", "-n", autoxNS, "delete", "pipelineruns", "-l", "autox.dev/group=httpbin", "--cascade=foreground", "--wait=true")
	t.Cleanup(func() {
		kubectl(t, "", "-n", systemNS, "delete", "trigger", "autox-httpbin-iter8", "autox-routeguide-iter8", "--ignore-not-found")
		kubectl(t, "", "-n", autoxNS, "delete", "secret", "autox-notify", "--ignore-not-found")
		kubectl(t, "", "-n", autoxNS, "delete", "pipelineruns", "-l", "autox.dev/group in (httpbin,routeguide)", "--cascade=foreground", "--wait=true")
		kubectl(t, "", "-n", seedNS, "apply", "-f", writeTemp(t, seedApp(image(t, "httpbin"), "httpbin", 8080, 80, "")))
	})

	step(t, "notifications to a webhook receiver on this machine (Secret autox-notify)")
	rcv := newReceiver(t)
	kubectl(t, "", "-n", autoxNS, "delete", "secret", "autox-notify", "--ignore-not-found")
	if out, err := kubectl(t, "", "-n", autoxNS, "create", "secret", "generic", "autox-notify", "--from-literal=url="+rcv.URL); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	seedGenerate(t, "seed-http.args")
	label(t, "httpbin", "1.0.0")
	stdout, stderr, code := autoxRun(t, "assert", "-c", "completed", "-c", "nofailure", "-c", "slos", "-g", "autox-httpbin-iter8", "-t", "5m")
	t.Logf("autox assert (1.0.0): exit %d\n%s%s", code, stdout, stderr)
	for _, want := range []string{"version 1.0.0", "experiment completed\n", "experiment has no failure\n", "SLOs are satisfied\n", "all conditions were satisfied\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("autox assert after 1.0.0 lacks %q:\n%s", want, stdout)
		}
	}
	if code != 0 {
		t.Fatalf("autox assert after 1.0.0: exit %d, want 0", code)
	}
	rcv.waitBody(t, "PASS", "httpbin 1.0.0")
	stdout, _, code = autoxRun(t, "report", "-g", "autox-httpbin-iter8")
	if code != 0 || !strings.Contains(stdout, "http-get/latency-mean") {
		t.Errorf("autox report: exit %d:\n%s", code, stdout)
	}

	step(t, "release 2.0.0, 120 ms slower on every answer, and label it")
	slow := strings.Replace(seedApp(image(t, "httpbin"), "httpbin", 8080, 80, ""), `args: [-addr, "0.0.0.0:8080"]`, `args: [-addr, "0.0.0.0:8080", -latency, 120ms]`, 1)
	if !strings.Contains(slow, "-latency") {
		t.Fatal("could not make the slow httpbin")
	}
	if err := applyRetrying(t, 30*time.Second, "-n", seedNS, "-f", writeTemp(t, slow)); err != nil {
		t.Fatal(err)
	}
	if out, err := kubectl(t, "", "-n", seedNS, "rollout", "status", "deploy/httpbin", "--timeout=180s"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	label(t, "httpbin", "2.0.0")
	waitFor(t, 30*time.Second, "the run of 2.0.0", func() (bool, string) {
		for _, r := range runsOf(t, c, "httpbin") {
			if version(r) == "2.0.0" {
				return true, ""
			}
		}
		return false, describe(runsOf(t, c, "httpbin"))
	})
	stdout, stderr, code = autoxRun(t, "assert", "-c", "completed", "-c", "nofailure", "-c", "slos", "-g", "autox-httpbin-iter8", "-t", "5m")
	t.Logf("autox assert (2.0.0): exit %d\n%s%s", code, stdout, stderr)
	if code != 1 || !strings.Contains(stdout, "version 2.0.0") || !strings.Contains(stdout, "SLOs are not satisfied") ||
		!strings.Contains(stdout, "http-get/latency-mean (msec) <= 50") || !strings.Contains(stdout, "conditions not satisfied: slos") {
		t.Errorf("autox assert after the slow 2.0.0: exit %d, want 1 naming http-get/latency-mean:\n%s", code, stdout)
	}
	rcv.waitBody(t, "FAIL", "httpbin 2.0.0", "http-get/latency-mean")

	stdout, stderr, code = autoxRun(t, "report", "-g", "autox-httpbin-iter8", "--compare", "2", "-o", "html")
	if code != 0 {
		t.Fatalf("autox report --compare 2 -o html: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"1.0.0", "2.0.0", "http-get/latency-mean", "<svg"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the comparison report lacks %q", want)
		}
	}
	html := filepath.Join(os.Getenv("AUTOX_E2E_OUT"), "compare.html")
	if os.Getenv("AUTOX_E2E_OUT") != "" {
		if err := os.WriteFile(html, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("e2e: the comparison report of 1.0.0 and 2.0.0: %s", html)
	}
	stdout, _, _ = autoxRun(t, "report", "-g", "autox-httpbin-iter8", "--compare", "2")
	t.Logf("autox report --compare 2:\n%s", stdout)
	unlabel(t, "httpbin")

	step(t, "the seed's gRPC command: Triggers' webhook takes its objects and a label launches a run")
	seedGenerate(t, "seed-grpc.args")
	unlabel(t, "routeguide")
	kubectl(t, "", "-n", autoxNS, "delete", "pipelineruns", "-l", "autox.dev/group=routeguide", "--cascade=foreground", "--wait=true")
	label(t, "routeguide", "1.0.0")
	runs := waitRuns(t, c, "routeguide", 1, 30*time.Second)
	if version(runs[0]) != "1.0.0" {
		t.Errorf("the gRPC run tests %s, want 1.0.0", version(runs[0]))
	}
	// The seed's proto and payloads are on GitHub, which this cluster
	// cannot reach: the run is not waited for.
	unlabel(t, "routeguide")
	waitCancelled(t, c, runs[0].GetName())
}
