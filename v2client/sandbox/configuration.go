package sandbox

import (
	"net/http"

	"github.com/passgw/passgw/v2client"
)

// handleConfiguration is GET /api/v2/{sp}/configuration, in the shape of
// Adobe's sample (§15 #3). The answer is specific to the platform that
// asks, as Adobe's is: its os is the osName of the caller's X-Device-Info,
// "Unknown" (the sample's value) without one.
func (s *Server) handleConfiguration(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r, 0)
	if !ok {
		return
	}
	resp := v2client.Configuration{
		Device:     "unknown",
		ClientType: "html5",
		OS:         "Unknown",
		Requestor: v2client.Requestor{
			ID:      c.sp.ID,
			Name:    c.sp.Name,
			Domains: []v2client.Domain{},
			MVPDs:   []v2client.MVPD{},
		},
	}
	if os, _ := c.deviceInfo["osName"].(string); os != "" {
		resp.OS = os
	}
	for _, d := range c.sp.Domains {
		resp.Requestor.Domains = append(resp.Requestor.Domains, v2client.Domain{Name: d})
	}
	for _, id := range c.sp.MVPDs {
		m := s.fixture.mvpd(id)
		resp.Requestor.MVPDs = append(resp.Requestor.MVPDs, v2client.MVPD{
			ID:                     m.ID,
			DisplayName:            m.DisplayName,
			LogoURL:                m.LogoURL,
			IsTempPass:             onlyTrue(m.TempPass != nil),
			PlatformMappingID:      m.PlatformMappingID,
			EnablePlatformServices: onlyTrue(m.PlatformMappingID != ""),
		})
	}
	writeJSON(w, http.StatusOK, resp)
}

// onlyTrue is a flag the answer carries when it is true, as Adobe's sample
// shows isTempPass only on TempPass MVPDs.
func onlyTrue(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}
