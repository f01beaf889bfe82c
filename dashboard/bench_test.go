package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cloudbutton/cloudbutton/dashboard"
)

// BenchmarkInstancePage10k renders the page of a finished fan-out of
// 10,000 activities on the embedded engine: the server's time for one
// page (status, attempts, timeline, histogram, template), which must stay
// under 1 s. The "all bars" variant draws one bar per attempt instead of
// aggregating past MaxTimelineBars; "history" is the page's history,
// which such a large instance loads on its own (export and decoding of
// its 20,000 events); "whole page" is the page with its history inline
// (?history=all: every row).
func BenchmarkInstancePage10k(b *testing.B) {
	eng := openEmbedded(b)
	startAndWait(b, eng, fanOut, 10_000, "fan-10k")
	for _, bc := range []struct {
		name, path string
		opts       dashboard.Options
	}{
		{"default", "/instances/fan-10k", dashboard.Options{}},
		{"all bars", "/instances/fan-10k", dashboard.Options{MaxTimelineBars: 10_000}},
		{"history", "/instances/fan-10k/history", dashboard.Options{}},
		{"whole page", "/instances/fan-10k?history=all", dashboard.Options{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.opts.Logger = quietLogger()
			h := dashboard.New(eng, bc.opts)
			size, ctx := 0, testCtx(b)
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, bc.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				size = rec.Body.Len()
				if !strings.Contains(rec.Body.String(), `class="bar `) && !strings.Contains(rec.Body.String(), "ActivityScheduled") {
					b.Fatal("neither bars nor history")
				}
			}
			b.ReportMetric(float64(size)/1024, "KiB/page")
		})
	}
}

// BenchmarkListPage renders the first page of the list (50 of 500
// instances, and the counts per status).
func BenchmarkListPage(b *testing.B) {
	eng := openEmbedded(b)
	for i := range 500 {
		startAndWait(b, eng, fanOut, 1, fmt.Sprintf("list-%03d", i))
	}
	h := dashboard.New(eng, dashboard.Options{Logger: quietLogger()})
	ctx := testCtx(b)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
