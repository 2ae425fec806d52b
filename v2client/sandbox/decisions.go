package sandbox

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

// handleAuthorize is POST /api/v2/{sp}/decisions/authorize/{mvpd}.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	s.handleDecisions(w, r, true)
}

// handlePreauthorize is POST /api/v2/{sp}/decisions/preauthorize/{mvpd}.
func (s *Server) handlePreauthorize(w http.ResponseWriter, r *http.Request) {
	s.handleDecisions(w, r, false)
}

func (s *Server) handleDecisions(w http.ResponseWriter, r *http.Request, authorize bool) {
	c, ok := s.begin(w, r, needDevice|needJSON)
	if !ok {
		return
	}
	m := s.fixture.integration(c.sp, mux.Vars(r)["mvpd"])
	if m == nil {
		s.writeError(w, CodeInvalidIntegration)
		return
	}
	var req decisionsRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Resources) == 0 || slices.Contains(req.Resources, "") {
		s.writeError(w, CodeInvalidParameterResources)
		return
	}
	if len(req.Resources) > s.fixture.ResourceLimit {
		s.writeError(w, CodeTooManyResources)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &decider{s: s, c: c, m: m, authorize: authorize, now: s.nowLocked()}
	var items []decisionItem
	switch {
	case m.TempPass != nil:
		items = d.tempPass(r, req.Resources)
	case m.Degradation == "AuthNAll":
		items = d.each(req.Resources, d.degradedPermit)
	default:
		items = d.mvpd(req.Resources)
	}
	writeJSON(w, http.StatusOK, decisionsResponse{Decisions: items})
}

// decider makes the decisions of one call.
type decider struct {
	s         *Server
	c         *call
	m         *MVPD
	authorize bool
	now       time.Time
}

func (d *decider) item(resource, source string) decisionItem {
	return decisionItem{Resource: resource, ServiceProvider: d.c.sp.ID, MVPD: d.m.ID, Source: source}
}

// stamp adds the item-level times of an authorize answer (§15 #21).
func (d *decider) stamp(it *decisionItem, end time.Time) {
	if !d.authorize {
		return
	}
	nb, na := d.now.UnixMilli(), end.UnixMilli()
	it.NotBefore, it.NotAfter = &nb, &na
}

func (d *decider) permit(it *decisionItem, userID string, end time.Time) {
	it.Authorized = true
	if d.authorize {
		it.Token = d.s.mediaTokenLocked(MediaToken{
			ServiceProvider: d.c.sp.ID, MVPD: d.m.ID, Resource: it.Resource, UserID: userID, Device: d.c.device,
		})
	}
	d.stamp(it, end)
}

func (d *decider) deny(it *decisionItem, code, details string) {
	it.Authorized = false
	it.Error = d.s.newError(code, http.StatusForbidden)
	it.Error.Details = details
}

func (d *decider) each(resources []string, f func(string) decisionItem) []decisionItem {
	items := make([]decisionItem, 0, len(resources))
	for _, res := range resources {
		items = append(items, f(res))
	}
	return items
}

func (d *decider) authzEnd() time.Time {
	return d.now.Add(time.Duration(d.s.fixture.TTLs.Authorization))
}

func (d *decider) degradedPermit(res string) decisionItem {
	it := d.item(res, "degradation")
	d.permit(&it, "", d.authzEnd())
	return it
}

// mvpd decides from the user's profile and entitlements.
func (d *decider) mvpd(resources []string) []decisionItem {
	p := d.s.findProfileLocked(d.c, d.m.ID)
	return d.each(resources, func(res string) decisionItem {
		it := d.item(res, "mvpd")
		switch {
		case p == nil:
			d.deny(&it, CodeProfileMissing, "")
			return it
		case !p.valid(d.now):
			d.deny(&it, CodeProfileExpired, "")
			return it
		}
		switch d.m.Degradation {
		case "AuthZAll":
			it.Source = "degradation"
			it.Authorized = true
			if d.authorize {
				it.Token = d.s.mediaTokenLocked(MediaToken{ServiceProvider: d.c.sp.ID, MVPD: d.m.ID, Resource: res, Device: d.c.device})
			}
			return it
		case "AuthZNone":
			it.Source = "degradation"
			d.deny(&it, CodeDeniedByDegradationRule, d.m.DegradationMessage)
			return it
		}
		u := d.s.fixture.user(p.username)
		userID, _ := p.attributes["userID"].Value.(string)
		id, rating := parseResource(res)
		switch {
		case u == nil || !entitled(u, id):
			code := CodePreauthorizationDeniedByMVPD
			if d.authorize {
				code = CodeAuthorizationDeniedByMVPD
			}
			details := "The subscription does not include " + id
			if u != nil && u.DenyDetails != "" {
				details = u.DenyDetails
			}
			d.deny(&it, code, details)
			d.stamp(&it, d.authzEnd())
		case !ratingAllowed(u.ParentalLimit, rating):
			d.deny(&it, CodeDeniedByParentalControls, "The content is rated "+rating+", above the parental limit "+u.ParentalLimit)
			d.stamp(&it, d.authzEnd())
		default:
			d.permit(&it, userID, minTime(d.authzEnd(), p.notAfter))
		}
		return it
	})
}

// tempPass decides on a TempPass MVPD: authorize starts the clock and
// spends the resource allowance; preauthorize only reads them (§7).
func (d *decider) tempPass(r *http.Request, resources []string) []decisionItem {
	identity, ok := tempPassIdentity(d.m, r.Header.Get("AP-TempPass-Identity"))
	if !ok {
		return d.each(resources, func(res string) decisionItem {
			it := d.item(res, "temppass")
			d.deny(&it, CodeInvalidHeaderTempPassIdentity, "")
			return it
		})
	}
	u := d.s.tempPassLocked(d.m, tempPassKeys(d.c.sp.ID, d.m.ID, d.c.device, identity), d.authorize)
	return d.each(resources, func(res string) decisionItem {
		it := d.item(res, "temppass")
		if u == nil { // preauthorize before the pass started: all permitted
			it.Authorized = true
			return it
		}
		if !d.now.Before(u.end) {
			d.deny(&it, CodeTempPassDurationExceeded, "")
			return it
		}
		if d.authorize && !u.use(d.m, res) {
			d.deny(&it, CodeTempPassResourcesExceeded, "")
			return it
		}
		d.permit(&it, u.userID, minTime(d.authzEnd(), u.end))
		return it
	})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func entitled(u *User, id string) bool {
	return slices.Contains(u.Entitlements, "*") || slices.Contains(u.Entitlements, id)
}

// parseResource reads a resource: a plain id, or MRSS whose channel title is
// the id and whose media:rating (in the channel or an item) is the rating.
// Unparsable MRSS is treated as a plain id.
func parseResource(res string) (id, rating string) {
	if !strings.HasPrefix(strings.TrimSpace(res), "<") {
		return res, ""
	}
	dec := xml.NewDecoder(strings.NewReader(res))
	dec.Strict = false
	var stack []string
	var title string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			n := len(stack)
			switch {
			case n >= 2 && stack[n-1] == "title" && stack[n-2] == "channel" && title == "":
				title = strings.TrimSpace(string(t))
			case n >= 2 && stack[n-1] == "rating" && (stack[n-2] == "channel" || stack[n-2] == "item") && rating == "":
				rating = strings.TrimSpace(string(t))
			}
		}
	}
	if title == "" {
		return res, rating
	}
	return title, rating
}

// ratingLevel orders TV Parental Guidelines and MPAA ratings; -1 for
// unknown ratings.
func ratingLevel(r string) int {
	switch strings.ToUpper(strings.TrimSpace(r)) {
	case "TV-Y":
		return 1
	case "TV-Y7", "TV-Y7-FV":
		return 2
	case "TV-G", "G":
		return 3
	case "TV-PG", "PG":
		return 4
	case "TV-14", "PG-13":
		return 5
	case "TV-MA", "R":
		return 6
	case "NC-17":
		return 7
	}
	return -1
}

// ratingAllowed reports whether content rated rating fits under limit. With
// a limit, unknown ratings are refused, as a cautious MVPD would.
func ratingAllowed(limit, rating string) bool {
	if limit == "" || rating == "" {
		return true
	}
	l := ratingLevel(rating)
	return l >= 0 && l <= ratingLevel(limit)
}
