package telemetry

import "github.com/prometheus/client_golang/prometheus"

// reloadSeries are the series of the gateway's configuration: which file
// each instance runs and how its reloads went.
type reloadSeries struct {
	info    *prometheus.GaugeVec
	reloads *prometheus.CounterVec
}

func newReloadSeries(reg *prometheus.Registry) *reloadSeries {
	r := &reloadSeries{
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "passgw_config_info",
			Help: "Always 1; the hash label is the SHA-256 (first 16 hex digits) of the configuration file in effect, so that every instance can be seen to run the same one.",
		}, []string{"hash"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_config_reloads_total",
			Help: "Configuration reloads (SIGHUP or POST /ops/reload), by result: applied, or refused (the running configuration stays).",
		}, []string{"result"}),
	}
	r.reloads.WithLabelValues("applied")
	r.reloads.WithLabelValues("refused")
	reg.MustRegister(r.info, r.reloads)
	return r
}

// ConfigInEffect records the hash of the configuration now in effect.
func (m *Metrics) ConfigInEffect(hash string) {
	if m == nil {
		return
	}
	m.reload.info.Reset()
	m.reload.info.WithLabelValues(hash).Set(1)
}

// ConfigReload counts one reload: applied or refused.
func (m *Metrics) ConfigReload(applied bool) {
	if m == nil {
		return
	}
	result := "refused"
	if applied {
		result = "applied"
	}
	m.reload.reloads.WithLabelValues(result).Inc()
}
