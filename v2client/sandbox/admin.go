package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"
)

// adminPrefix is where the admin endpoints (listed in the package doc) live
// when Config.Admin is set.
const adminPrefix = "/_sandbox/"

func (s *Server) adminRoutes() *mux.Router {
	m := mux.NewRouter()
	m.Handle("/_sandbox/faults", methods{
		http.MethodGet: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Faults()) },
		http.MethodPost: func(w http.ResponseWriter, r *http.Request) {
			var f Fault
			if !decodeAdmin(w, r, &f) {
				return
			}
			id, err := s.AddFault(f)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			writeJSON(w, http.StatusCreated, map[string]string{"id": id})
		},
		http.MethodDelete: func(w http.ResponseWriter, r *http.Request) {
			s.ClearFaults()
			w.WriteHeader(http.StatusNoContent)
		},
	})
	m.Handle("/_sandbox/faults/{id}", methods{http.MethodDelete: func(w http.ResponseWriter, r *http.Request) {
		if !s.RemoveFault(mux.Vars(r)["id"]) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such fault"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}})
	clock := func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, map[string]int64{"now": s.Now().UnixMilli()}) }
	m.Handle("/_sandbox/clock", methods{
		http.MethodGet: func(w http.ResponseWriter, r *http.Request) { clock(w) },
		http.MethodPost: func(w http.ResponseWriter, r *http.Request) {
			var req struct {
				Advance Duration `json:"advance"`
			}
			if !decodeAdmin(w, r, &req) {
				return
			}
			if req.Advance < 0 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the clock only moves forward"})
				return
			}
			s.Advance(time.Duration(req.Advance))
			clock(w)
		},
	})
	m.Handle("/_sandbox/tokens/expire", methods{http.MethodPost: func(w http.ResponseWriter, r *http.Request) {
		s.ExpireAccessTokens()
		w.WriteHeader(http.StatusNoContent)
	}})
	m.Handle("/_sandbox/throttling", methods{http.MethodPost: func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Enabled *bool `json:"enabled"`
		}
		if !decodeAdmin(w, r, &req) {
			return
		}
		if req.Enabled == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "enabled is required"})
			return
		}
		s.SetThrottling(*req.Enabled)
		w.WriteHeader(http.StatusNoContent)
	}})
	m.Handle("/_sandbox/reset", methods{http.MethodPost: func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	}})
	m.Handle("/_sandbox/registrations", methods{http.MethodGet: func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Registrations())
	}})
	m.Handle("/_sandbox/unhandled", methods{http.MethodGet: func(w http.ResponseWriter, r *http.Request) {
		type entry struct {
			Method   string `json:"method"`
			Path     string `json:"path"`
			RawQuery string `json:"query,omitempty"`
			Status   int    `json:"status"`
		}
		out := []entry{}
		for _, u := range s.UnhandledRequests() {
			out = append(out, entry{u.Method, u.Path, u.RawQuery, u.Status})
		}
		writeJSON(w, http.StatusOK, out)
	}})
	m.Handle("/_sandbox/partner/saml-response", methods{http.MethodPost: func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Request  string `json:"request"`
			Username string `json:"username"`
		}
		if !decodeAdmin(w, r, &req) {
			return
		}
		resp, err := s.PartnerSAMLResponse(req.Request, req.Username)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"SAMLResponse": resp})
	}})
	m.Handle("/_sandbox/media-token/verify", methods{http.MethodPost: func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Token string `json:"token"`
		}
		if !decodeAdmin(w, r, &req) {
			return
		}
		t, err := s.VerifyMediaToken(req.Token)
		if err != nil {
			msg := "invalid"
			if errors.Is(err, ErrMediaTokenExpired) {
				msg = "expired"
			}
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"serviceProvider": t.ServiceProvider, "mvpd": t.MVPD, "resource": t.Resource, "userID": t.UserID,
			"notBefore": t.NotBefore.UnixMilli(), "notAfter": t.NotAfter.UnixMilli(),
		})
	}})
	m.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			rec.handled = false
		}
		http.NotFound(w, r)
	})
	return m
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON body: " + err.Error()})
		return false
	}
	return true
}
