package sandbox

import "net/http"

// handleConfiguration is GET /api/v2/{sp}/configuration, in the shape of
// Adobe's sample (§15 #3). The answer is specific to the platform that
// asks, as Adobe's is: its os is the osName of the caller's X-Device-Info,
// "Unknown" (the sample's value) without one.
func (s *Server) handleConfiguration(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r, 0)
	if !ok {
		return
	}
	resp := configurationResponse{
		Device:     "unknown",
		ClientType: "html5",
		OS:         "Unknown",
		Requestor: configurationReqr{
			ID:      c.sp.ID,
			Name:    c.sp.Name,
			Domains: []configurationDomain{},
			MVPDs:   []configurationMVPD{},
		},
	}
	if os, _ := c.deviceInfo["osName"].(string); os != "" {
		resp.OS = os
	}
	for _, d := range c.sp.Domains {
		resp.Requestor.Domains = append(resp.Requestor.Domains, configurationDomain{Name: d})
	}
	for _, id := range c.sp.MVPDs {
		m := s.fixture.mvpd(id)
		resp.Requestor.MVPDs = append(resp.Requestor.MVPDs, configurationMVPD{
			ID:                     m.ID,
			DisplayName:            m.DisplayName,
			LogoURL:                m.LogoURL,
			IsTempPass:             m.TempPass != nil,
			PlatformMappingID:      m.PlatformMappingID,
			EnablePlatformServices: m.PlatformMappingID != "",
		})
	}
	writeJSON(w, http.StatusOK, resp)
}
