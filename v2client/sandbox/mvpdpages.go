package sandbox

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
)

// The mock MVPD: Adobe's SAML hop and a login form per MVPD, on the
// sandbox's own base URL (§6.5 Choice).

// handleSAMLHop is GET /adobe-services/authenticate/saml, the documented
// first hop; it sends the browser on to the MVPD's login page.
func (s *Server) handleSAMLHop(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code := q.Get("reg_code")
	s.mu.Lock()
	se := s.liveSessionLocked(q.Get("requestor_id"), code)
	s.mu.Unlock()
	if se == nil || se.mvpd != q.Get("mso_id") {
		writeHTML(w, http.StatusBadRequest, "<html><body><h1>400 Bad Request</h1><p>Unknown or expired authentication request.</p></body></html>")
		return
	}
	next := url.Values{"code": {code}, "requestor_id": {se.sp}}
	http.Redirect(w, r, s.baseURLFor(r)+"/adobe-services/mvpd/"+url.PathEscape(se.mvpd)+"/login?"+next.Encode(), http.StatusFound)
}

// loginPage is the mock MVPD's sign-in form.
func loginPage() *template.Template {
	return template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{{.MVPD}} sign in</title></head>
<body>
<h1>Sign in to {{.MVPD}}</h1>
<p>Sandbox MVPD: not a real provider.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="code" value="{{.Code}}">
<input type="hidden" name="requestor_id" value="{{.ServiceProvider}}">
<label>Username <input type="text" name="username" value="{{.Username}}" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`))
}

type loginView struct {
	MVPD, Action, Code, ServiceProvider, Username, Error string
}

func (s *Server) renderLogin(w http.ResponseWriter, status int, v loginView) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.WriteHeader(status)
	_ = loginPage().Execute(w, v)
}

// loginSession finds the live session a login page request belongs to.
func (s *Server) loginSessionLocked(r *http.Request, code, sp string) *session {
	se := s.liveSessionLocked(sp, code)
	if se == nil || se.mvpd != mux.Vars(r)["mvpd"] {
		return nil
	}
	return se
}

// handleLoginForm is GET /adobe-services/mvpd/{mvpd}/login.
func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	se := s.loginSessionLocked(r, q.Get("code"), q.Get("requestor_id"))
	s.mu.Unlock()
	if se == nil {
		writeHTML(w, http.StatusBadRequest, "<html><body><h1>400 Bad Request</h1><p>Unknown or expired authentication request.</p></body></html>")
		return
	}
	s.renderLogin(w, http.StatusOK, loginView{MVPD: se.mvpd, Action: r.URL.Path, Code: se.code, ServiceProvider: se.sp})
}

// handleLoginSubmit is POST /adobe-services/mvpd/{mvpd}/login: a right
// username and password of a subscriber of this MVPD store the profile and
// send the browser to the session's redirectUrl.
func (s *Server) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeHTML(w, http.StatusBadRequest, "<html><body><h1>400 Bad Request</h1></body></html>")
		return
	}
	code, sp := r.PostForm.Get("code"), r.PostForm.Get("requestor_id")
	username := strings.TrimSpace(r.PostForm.Get("username"))
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.loginSessionLocked(r, code, sp)
	if se == nil {
		writeHTML(w, http.StatusBadRequest, "<html><body><h1>400 Bad Request</h1><p>Unknown or expired authentication request.</p></body></html>")
		return
	}
	u := s.fixture.user(username)
	if u == nil || u.Password != r.PostForm.Get("password") || u.MVPD != se.mvpd {
		s.renderLogin(w, http.StatusOK, loginView{
			MVPD: se.mvpd, Action: r.URL.Path, Code: se.code, ServiceProvider: se.sp, Username: username,
			Error: "The username or password is incorrect, or the account is not a " + se.mvpd + " subscription.",
		})
		return
	}
	s.storeLoginLocked(se, u, s.nowLocked())
	http.Redirect(w, r, se.redirectURL, http.StatusFound)
}

// handleMVPDLogout is GET /adobe-services/logout: the profile is already gone
// (the logout API deleted it), so the mock MVPD only sends the browser on.
func (s *Server) handleMVPDLogout(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("redirect_url")
	if !validRedirect(target) {
		writeHTML(w, http.StatusBadRequest, "<html><body><h1>400 Bad Request</h1><p>Missing or invalid redirect_url.</p></body></html>")
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}
