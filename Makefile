# Copyright 2026 The autox Authors
# SPDX-License-Identifier: Apache-2.0
# autox: the verbs a newcomer uses. README.md names the two that matter:
# `make demo` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
PROGRAMS := $(notdir $(wildcard cmd/*))

.PHONY: help build deps test unit fuzz lint bench demo demo-local clean images release print-release-files cluster-up cluster-down cluster-selftest e2e e2e-oldest dashboard
# What `make release` resolves, in order: the namespaces first, then the
# catalog (each resource's <name>/<name>.yaml; not its samples/ and tests/),
# then the install. triggers/examples/ is not part of it.
CATALOG := $(foreach d,$(wildcard stepactions/*/ tasks/*/ pipelines/*/),$(d)$(notdir $(d:/=)).yaml)
RELEASE_FILES := triggers/namespace.yaml $(CATALOG) $(filter-out triggers/namespace.yaml,$(wildcard triggers/*.yaml))
# make release PIPELINE_FROM=bundle: the TriggerTemplate runs the Pipeline
# from its bundle (the bundles resolver) rather than the one installed.
PIPELINE_FROM ?= cluster

help: ## list the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

deps: ## install what the tests need: Go modules, ko (into .cluster/cache), Debian chromium and shellcheck
	@./test/deps.sh

build: ## build every command and the sample apps into bin/
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/... ./test/apps/httpbin ./test/apps/routeguide
	$(GO) build -o $(BIN)/hey github.com/rakyll/hey
	$(GO) build -o $(BIN)/ghz github.com/bojand/ghz/cmd/ghz

# Every shell script: *.sh, and the files without an extension whose
# first line is a shell's #! (.ci/run). .shellcheckrc says how they source
# each other.
SHELL_SCRIPTS = $$({ git ls-files '*.sh'; git ls-files | while read -r f; do case "$${f\#\#*/}" in *.*) ;; *) head -n1 "$$f" | grep -qE '^\#!.*\b(ba)?sh\b' && echo "$$f";; esac; done; } | sort -u)

lint: ## gofmt, go vet and shellcheck (test/deps.sh installs it)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	shellcheck $(SHELL_SCRIPTS)

# One package at a time (-p 1): the load tests judge real latencies against
# the seed's SLOs, and on 2 cores several packages under -race at once can
# push a mean past them.
# AUTOX_KO: the image test builds with ko (test/cluster/ko.sh installs it).
# test/fixedrate measures rates, which the race detector would slow: it
# builds only without it, and runs apart; so does cmd/autox's
# TestRunRegression, which judges one run's latencies against another's.
unit: ## unit and loopback tests, with the race detector; the fixed-rate and regression checks without it; then make fuzz
	AUTOX_KO=$$(./test/cluster/ko.sh) AUTOX_REQUIRE_CHROMIUM=1 $(GO) test -race -count=1 -p 1 ./...
	$(GO) test -count=1 -run '^TestRunRegression$$' ./cmd/autox
	$(GO) test -count=1 -v ./test/fixedrate | grep -E '^(---|ok|FAIL|panic)|fixedrate_test.go:[0-9]+: (asked|the server)'; exit $${PIPESTATUS[0]}
	@$(MAKE) --no-print-directory fuzz

# One fuzz target per go test run (go test takes one -fuzz pattern), each
# for a count of inputs, not a time: -fuzztime=Ns races in the coordinator
# on Go 1.26 (golang/go#75804). Each parser bounds what it allocates; the
# address-space limit makes one that does not fail here rather than take
# the machine.
FUZZ_TARGETS := \
	FuzzParse:./internal/experiment \
	FuzzParseSet:./internal/generate \
	FuzzParseEvent:./internal/contract \
	FuzzParseParams:./internal/contract \
	FuzzFromTrigger:./internal/contract \
	FuzzParseFile:./internal/metrics \
	FuzzDecodeHDR:./internal/metrics \
	FuzzParse:./internal/result \
	FuzzProcess:./internal/interceptor
FUZZ_EXECS ?= 2000
fuzz: ## run each parser's fuzz target on FUZZ_EXECS (2000) new inputs
	@set -o pipefail; ulimit -v 8388608; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $${t%%:*} $${t#*:}"; \
	  $(GO) test -run '^$$' -fuzz "^$${t%%:*}\$$" -fuzztime $(FUZZ_EXECS)x "$${t#*:}" 2>&1 | grep -vE '^fuzz: elapsed' || exit 1; \
	done

test: ## the README's test command: deps, lint, unit tests, the cluster's e2e tests on the newest Tekton and some on the oldest, the cluster's selftest
	@./test/timed.sh deps $(MAKE) --no-print-directory deps
	@./test/timed.sh lint $(MAKE) --no-print-directory lint
	@./test/timed.sh unit $(MAKE) --no-print-directory unit
	@./test/timed.sh e2e $(MAKE) --no-print-directory e2e
	@./test/timed.sh e2e-oldest $(MAKE) --no-print-directory e2e-oldest
	@./test/timed.sh cluster-selftest $(MAKE) --no-print-directory cluster-selftest

images: ## ko build of the step images, pushed to KO_DOCKER_REPO (default: the test cluster's registry); prints ref@digest
	@./images/ko.sh images

# The files make release resolves, for test/e2e (bundle_test.go).
print-release-files:
	@echo $(RELEASE_FILES)

release: ## bin/release.yaml (images pinned by digest) and the catalog's bundles (bin/bundles.txt), pushed to KO_DOCKER_REPO (default: the test cluster's registry); PIPELINE_FROM=bundle
	@PIPELINE_FROM=$(PIPELINE_FROM) ./images/ko.sh release $(BIN)/release.yaml $(RELEASE_FILES)

cluster-up: ## a real single-node Kubernetes, its image registry, Tekton, Triggers and CoreDNS under .cluster/ (prints export KUBECONFIG=...)
	@./test/cluster/up.sh

cluster-down: ## stop the cluster and remove what its record lists, and nothing else
	@./test/cluster/down.sh

cluster-selftest: ## prove cluster-up/down touch only what the cluster made (leaves the cluster down)
	@./test/cluster/selftest.sh

dashboard: ## the Tekton Dashboard (read-only) on the test cluster (up if needed), built from its release source and cached; prints its loopback URL
	@./test/cluster/up.sh && ./test/cluster/dashboard.sh

e2e: ## bring the cluster up if it is not, run test/e2e against it, print a summary
	@./test/e2e.sh

e2e-oldest: ## on a cluster of its own with the oldest Tekton the catalog claims (v1.9.6): the seed's PipelineRuns, the failing runs, a trigger test, the catalog's tests, the workers' runs; leaves it down
	@./test/e2e-oldest.sh

# The bench process itself is not pinned: its in-process rows count
# allocations, not time, and the interceptor's benchmark keeps both cores
# as before; each server and load generator it starts is pinned.
BENCH_SERVER_CORE ?= auto
BENCH_CLIENT_CORE ?= auto
bench: build ## the benchmark suite (about 7 min): ratios ours / peer measured in one run, servers and load on separate cores; table on stdout, rows in bin/bench.json
	@./test/bench/deps.sh
	$(GO) build -o $(BIN)/bench ./test/bench
	$(BIN)/bench -bin $(BIN) -json $(BIN)/bench.json -go $(GO) -server-core $(BENCH_SERVER_CORE) -client-core $(BENCH_CLIENT_CORE)

demo: build ## the README walkthrough on the test cluster (up if needed): generate, label, assert, report, compare; leaves demo/*.html
	@./test/demo-cluster.sh

demo-local: build ## the seed's HTTP and gRPC experiments with autox run on loopback; leaves report.html, report-grpc.html
	@./test/demo.sh

clean: ## remove built binaries and demo output
	rm -rf $(BIN) out demo report.html report-grpc.html
