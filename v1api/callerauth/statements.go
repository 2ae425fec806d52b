package callerauth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/passgw/passgw/v1model"
)

// Statement is a software statement the operator accepts from devices.
//
// A statement is recognised by exact comparison with Text. When it is a
// JWT (as the TVE Dashboard issues them) its signature is deliberately not
// verified: the gateway is not asked whether Adobe issued the statement,
// only whether it is one the operator listed, and a listed statement is
// accepted byte for byte whatever its signature says. The claims are read,
// unverified, only to describe the application when Application is nil.
type Statement struct {
	// Requestor is the v1 requestor whose apps embed the statement.
	Requestor string
	// Text is the statement exactly as the apps send it.
	Text string
	// Application describes the app in registration records made with its
	// clients (info.sourceApplicationInformation). Nil means: from the
	// JWT claims software_id, client_name and software_version when the
	// statement is a JWT carrying them, else none.
	Application *v1model.SourceApplication
}

// statementID names a statement inside client ids without revealing it: a
// truncated SHA-256, so removing a statement from the configuration revokes
// its clients and editing its text makes them register again.
func statementID(text string) string {
	sum := sha256.Sum256([]byte(text))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// statements indexes the accepted statements by text and by id.
type statements struct {
	byText map[string]*statement
	byID   map[string]*statement
}

type statement struct {
	id          string
	requestor   string
	application *v1model.SourceApplication
}

func indexStatements(list []Statement) (statements, error) {
	s := statements{byText: make(map[string]*statement), byID: make(map[string]*statement)}
	for i, st := range list {
		if st.Text == "" || st.Requestor == "" {
			return statements{}, fmt.Errorf("callerauth: statement %d: requestor and text are required", i)
		}
		if prev, dup := s.byText[st.Text]; dup {
			if prev.requestor != st.Requestor {
				// Index only: the text itself must not reach an error string.
				return statements{}, fmt.Errorf("callerauth: statement %d is listed for requestors %q and %q", i, prev.requestor, st.Requestor)
			}
			continue
		}
		app := st.Application
		if app == nil {
			app = jwtApplication(st.Text)
		}
		e := &statement{id: statementID(st.Text), requestor: st.Requestor, application: app}
		s.byText[st.Text] = e
		s.byID[e.id] = e
	}
	return s, nil
}

// jwtClaims returns the payload of a compact JWT, unverified, or nil when
// s is not one.
func jwtClaims(s string) map[string]any {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(raw, &claims) != nil {
		return nil
	}
	return claims
}

func jwtApplication(s string) *v1model.SourceApplication {
	claims := jwtClaims(s)
	str := func(name string) string {
		v, _ := claims[name].(string)
		return v
	}
	app := &v1model.SourceApplication{ID: str("software_id"), Name: str("client_name"), Version: str("software_version")}
	if *app == (v1model.SourceApplication{}) {
		return nil
	}
	return app
}
