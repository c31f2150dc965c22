package interceptor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/triggers/pkg/interceptors/server"
	"go.uber.org/zap"
)

// cachedRuns is the bench's cache: 1000 finished PipelineRuns, all of
// httpbin/iter8 (the worst case: the index hands every one of them to the
// decision), versions 1..1000, the latest 1000.0.0.
func cachedRuns() []*pipelinev1.PipelineRun {
	runs := make([]*pipelinev1.PipelineRun, 1000)
	for i := range runs {
		runs[i] = httpbinRun(fmt.Sprintf("r%04d", i+1), fmt.Sprintf("%d.0.0", i+1), i+1, "done")
	}
	return runs
}

// BenchmarkDecision measures one decision as the EventListener gets it:
// an InterceptorRequest decoded by Triggers' server, the params and the
// event parsed, the cache's index read, the decision made and the response
// encoded (no network, no TLS: those are the EventListener's and Go's).
// It reports decisions/s and the p99 latency in ms; the goal (issue 9) is
// at least 5000/s and a p99 under 5 ms with 1000 PipelineRuns in the cache.
//
//	go test -run '^$' -bench Decision ./internal/interceptor
func BenchmarkDecision(b *testing.B) {
	f := newFixture(b, cachedRuns()...)
	if n := len(f.interceptor.Runs.(*RunCache).informer.GetStore().List()); n != 1000 {
		b.Fatalf("%d PipelineRuns in the cache, want 1000", n)
	}
	ts := &server.Server{Logger: zap.NewNop().Sugar()}
	f.interceptor.Log = discardLogger()
	ts.RegisterInterceptor(Name, f.interceptor)
	for _, tc := range []struct {
		name     string
		version  string
		wantCont bool
	}{
		// A duplicate, a re-list, a scale: the common event.
		{"same-version", "1000.0.0", false},
		// A new version: launches (nothing to cancel: every run is done).
		{"new-version", "1001.0.0", true},
	} {
		body, err := json.Marshal(request(watcherBody(b, "update", deployment(tc.version), deployment("1000.0.0")), nil))
		if err != nil {
			b.Fatal(err)
		}
		decide := func() time.Duration {
			start := time.Now()
			rec := httptest.NewRecorder()
			ts.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/"+Name, bytes.NewReader(body)))
			took := time.Since(start)
			if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(fmt.Sprintf(`"continue":%t`, tc.wantCont))) {
				b.Fatalf("HTTP %d %s, want continue %t", rec.Code, rec.Body, tc.wantCont)
			}
			return took
		}
		b.Run(tc.name+"/serial", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				lat = append(lat, decide())
			}
			report(b, lat)
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			var mu sync.Mutex
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					mine = append(mine, decide())
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			report(b, lat)
		})
	}
}

// report adds decisions/s (over the benchmark's wall time) and the p99
// latency of one decision, in ms.
func report(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	elapsed := b.Elapsed()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[(len(lat)*99+99)/100-1]
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99-ms")
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
