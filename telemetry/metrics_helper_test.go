package telemetry

import (
	"net/http/httptest"
	"testing"

	"github.com/passgw/passgw/internal/testenv"
)

// scrape reads m's /metrics page and returns each sample, keyed like
// `name{label="value",...}` with labels in name order as the text format
// writes them.
func scrape(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: status %d", rec.Code)
	}
	return testenv.MetricSamples(t, rec.Body)
}
