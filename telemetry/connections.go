package telemetry

import "github.com/prometheus/client_golang/prometheus"

// connSeries are the series of the device listener's connection caps.
type connSeries struct {
	open    prometheus.Gauge
	refused *prometheus.CounterVec
}

func newConnSeries(reg *prometheus.Registry) *connSeries {
	c := &connSeries{
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "passgw_connections_open",
			Help: "Connections the device listener holds open.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_connections_refused_total",
			Help: "Connections closed as soon as accepted because a cap was reached, by cap (total: connections.max; per_address: connections.max_per_address).",
		}, []string{"cap"}),
	}
	c.refused.WithLabelValues("total")
	c.refused.WithLabelValues("per_address")
	reg.MustRegister(c.open, c.refused)
	return c
}

// ConnectionsOpen records the number of connections the device listener
// holds.
func (m *Metrics) ConnectionsOpen(n int) {
	if m == nil {
		return
	}
	m.conns.open.Set(float64(n))
}

// ConnectionRefused counts one connection closed at a cap: "total" or
// "per_address".
func (m *Metrics) ConnectionRefused(capName string) {
	if m == nil {
		return
	}
	m.conns.refused.WithLabelValues(capName).Inc()
}
