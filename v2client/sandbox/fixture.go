package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"time"
)

// Fixture is the world the sandbox serves: service providers, software
// statements, MVPDs, subscribers and lifetimes. DefaultFixture gives the one
// tests and newcomers rely on; LoadFixture reads one from JSON.
type Fixture struct {
	ServiceProviders   []ServiceProvider   `json:"serviceProviders"`
	SoftwareStatements []SoftwareStatement `json:"softwareStatements"`
	MVPDs              []MVPD              `json:"mvpds"`
	Users              []User              `json:"users"`
	TTLs               TTLs                `json:"ttls"`
	// ResourceLimit is the most resources one decisions call may carry;
	// above it the answer is a top-level 403 too_many_resources.
	ResourceLimit int `json:"resourceLimit"`
}

// ServiceProvider is a programmer's integration (a v1 requestor).
type ServiceProvider struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Domains []string `json:"domains"`
	// MVPDs lists the ids of the MVPDs with an active integration.
	MVPDs []string `json:"mvpds"`
}

// SoftwareStatement is a statement accepted by /o/client/register. The
// sandbox matches it literally; it is not parsed as a JWT.
type SoftwareStatement struct {
	Statement       string `json:"statement"`
	ServiceProvider string `json:"serviceProvider"`
	// Unapproved statements are known but refused with
	// unapproved_software_statement.
	Unapproved bool `json:"unapproved,omitempty"`
}

// MVPD is an identity provider, or a TempPass pseudo-MVPD.
type MVPD struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	LogoURL     string `json:"logoUrl,omitempty"`
	// LogoutPage makes logout answer logout/interactive with the URL of the
	// mock MVPD logout page; without it logout is complete/none.
	LogoutPage bool `json:"logoutPage,omitempty"`
	// PlatformMappingID is the Apple accountProviderIdentifier; set, it
	// enables partner (Apple) SSO for this MVPD.
	PlatformMappingID string    `json:"platformMappingId,omitempty"`
	TempPass          *TempPass `json:"tempPass,omitempty"`
	// Degradation names a degradation rule in force for the MVPD
	// (AuthNAll, AuthZAll, AuthZNone); empty means none.
	Degradation string `json:"degradation,omitempty"`
	// DegradationMessage is the custom text of an AuthZNone deny.
	DegradationMessage string `json:"degradationMessage,omitempty"`
}

// TempPass makes an MVPD a TempPass pseudo-MVPD.
type TempPass struct {
	Duration Duration `json:"duration"`
	// MaxResources limits the distinct resources authorized during the
	// pass; zero means no limit.
	MaxResources int `json:"maxResources,omitempty"`
	// Promotional passes are keyed also by AP-TempPass-Identity, which they
	// require.
	Promotional bool `json:"promotional,omitempty"`
}

// User is a subscriber of one MVPD.
type User struct {
	Username string `json:"username"`
	Password string `json:"password"`
	MVPD     string `json:"mvpd"`
	// UserID is the profile's userID attribute.
	UserID string `json:"userID"`
	// Entitlements are the resource ids (MRSS: the channel title) the MVPD
	// permits; "*" permits everything.
	Entitlements []string `json:"entitlements"`
	// DenyDetails is the MVPD's text on a deny, returned as details.
	DenyDetails string `json:"denyDetails,omitempty"`
	// ParentalLimit is the highest rating the user may watch (e.g. TV-14);
	// empty means no limit.
	ParentalLimit string `json:"parentalLimit,omitempty"`
	// Attributes are extra profile attributes, beside userID.
	Attributes map[string]Attribute `json:"attributes,omitempty"`
}

// Attribute is a profile attribute as v2 returns it.
type Attribute struct {
	Value any    `json:"value"`
	State string `json:"state"`
}

// TTLs are the lifetimes the sandbox applies.
type TTLs struct {
	Authentication Duration `json:"authentication"`
	Authorization  Duration `json:"authorization"`
	MediaToken     Duration `json:"mediaToken"`
	Session        Duration `json:"session"`
	AccessToken    Duration `json:"accessToken"`
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("24h", "7m").
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"24h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DefaultFixture is the world described in DESIGN.md: service provider
// REF30, MVPDs AcmeCable, BetaFiber and TempPass_REF30, users alice, bob and
// carol.
func DefaultFixture() *Fixture {
	return &Fixture{
		ServiceProviders: []ServiceProvider{{
			ID:      "REF30",
			Name:    "Reference service provider (sandbox)",
			Domains: []string{"example.com", "localhost"},
			MVPDs:   []string{"AcmeCable", "BetaFiber", "TempPass_REF30"},
		}},
		SoftwareStatements: []SoftwareStatement{{Statement: "sandbox-statement", ServiceProvider: "REF30"}},
		MVPDs: []MVPD{
			{ID: "AcmeCable", DisplayName: "Acme Cable", LogoURL: "https://example.com/logos/acme.png", LogoutPage: true, PlatformMappingID: "AcmeCable"},
			{ID: "BetaFiber", DisplayName: "Beta Fiber", LogoURL: "https://example.com/logos/beta.png"},
			{ID: "TempPass_REF30", DisplayName: "Free preview", TempPass: &TempPass{Duration: Duration(10 * time.Minute), MaxResources: 3}},
		},
		Users: []User{
			{
				Username: "alice", Password: "alice-pass", MVPD: "AcmeCable", UserID: "acme-alice-0001",
				Entitlements: []string{"*"},
				Attributes: map[string]Attribute{
					"householdID": {Value: "acme-household-0001", State: "plain"},
					"zip":         {Value: "MTAwMDE=", State: "enc"},
				},
			},
			{
				Username: "bob", Password: "bob-pass", MVPD: "AcmeCable", UserID: "acme-bob-0002",
				Entitlements: []string{"news", "sports"},
				DenyDetails:  "Your subscription package does not include this channel",
				Attributes: map[string]Attribute{
					"householdID": {Value: "acme-household-0002", State: "plain"},
				},
			},
			{
				Username: "carol", Password: "carol-pass", MVPD: "BetaFiber", UserID: "beta-carol-0003",
				Entitlements: []string{"*"}, ParentalLimit: "TV-14",
				Attributes: map[string]Attribute{
					"maxRating": {Value: "TV-14", State: "plain"},
				},
			},
		},
		TTLs: TTLs{
			Authentication: Duration(24 * time.Hour),
			Authorization:  Duration(time.Hour),
			MediaToken:     Duration(7 * time.Minute),
			Session:        Duration(30 * time.Minute),
			AccessToken:    Duration(21600 * time.Second),
		},
		ResourceLimit: 5,
	}
}

// LoadFixture reads a fixture from a JSON file and validates it.
func LoadFixture(path string) (*Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading fixture: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f Fixture
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parsing fixture %s: %w", path, err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	return &f, nil
}

// ErrInvalidFixture is wrapped by every validation error.
var ErrInvalidFixture = errors.New("invalid fixture")

// Validate checks the fixture is usable; each error names the offending
// field by its JSON path.
func (f *Fixture) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidFixture, field, fmt.Sprintf(format, args...)))
	}
	mvpds := map[string]*MVPD{}
	for i := range f.MVPDs {
		m := &f.MVPDs[i]
		field := fmt.Sprintf("mvpds[%d]", i)
		switch {
		case m.ID == "":
			bad(field+".id", "must not be empty")
		case mvpds[m.ID] != nil:
			bad(field+".id", "duplicate id %q", m.ID)
		default:
			mvpds[m.ID] = m
		}
		if m.TempPass != nil {
			if m.TempPass.Duration <= 0 {
				bad(field+".tempPass.duration", "must be positive")
			}
			if m.TempPass.MaxResources < 0 {
				bad(field+".tempPass.maxResources", "must not be negative")
			}
		}
		switch m.Degradation {
		case "", "AuthNAll", "AuthZAll", "AuthZNone":
		default:
			bad(field+".degradation", "unknown rule %q (want AuthNAll, AuthZAll or AuthZNone)", m.Degradation)
		}
	}
	sps := map[string]bool{}
	if len(f.ServiceProviders) == 0 {
		bad("serviceProviders", "at least one is required")
	}
	for i, sp := range f.ServiceProviders {
		field := fmt.Sprintf("serviceProviders[%d]", i)
		switch {
		case sp.ID == "":
			bad(field+".id", "must not be empty")
		case sps[sp.ID]:
			bad(field+".id", "duplicate id %q", sp.ID)
		default:
			sps[sp.ID] = true
		}
		for j, id := range sp.MVPDs {
			if mvpds[id] == nil {
				bad(fmt.Sprintf("%s.mvpds[%d]", field, j), "unknown mvpd %q", id)
			}
		}
	}
	for i, st := range f.SoftwareStatements {
		field := fmt.Sprintf("softwareStatements[%d]", i)
		if st.Statement == "" {
			bad(field+".statement", "must not be empty")
		}
		if !sps[st.ServiceProvider] {
			bad(field+".serviceProvider", "unknown service provider %q", st.ServiceProvider)
		}
	}
	users := map[string]bool{}
	for i, u := range f.Users {
		field := fmt.Sprintf("users[%d]", i)
		switch {
		case u.Username == "":
			bad(field+".username", "must not be empty")
		case users[u.Username]:
			bad(field+".username", "duplicate username %q", u.Username)
		default:
			users[u.Username] = true
		}
		if u.Password == "" {
			bad(field+".password", "must not be empty")
		}
		if m := mvpds[u.MVPD]; m == nil {
			bad(field+".mvpd", "unknown mvpd %q", u.MVPD)
		} else if m.TempPass != nil {
			bad(field+".mvpd", "%q is a TempPass mvpd, which has no subscribers", u.MVPD)
		}
		if u.UserID == "" {
			bad(field+".userID", "must not be empty")
		}
		if u.ParentalLimit != "" && ratingLevel(u.ParentalLimit) < 0 {
			bad(field+".parentalLimit", "unknown rating %q", u.ParentalLimit)
		}
		for name, a := range u.Attributes {
			if a.State != "plain" && a.State != "enc" {
				bad(fmt.Sprintf("%s.attributes.%s.state", field, name), "must be plain or enc, not %q", a.State)
			}
		}
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{
		{"ttls.authentication", f.TTLs.Authentication},
		{"ttls.authorization", f.TTLs.Authorization},
		{"ttls.mediaToken", f.TTLs.MediaToken},
		{"ttls.session", f.TTLs.Session},
		{"ttls.accessToken", f.TTLs.AccessToken},
	} {
		if d.v <= 0 {
			bad(d.name, "must be a positive duration")
		}
	}
	if f.ResourceLimit <= 0 {
		bad("resourceLimit", "must be positive")
	}
	return errors.Join(errs...)
}

func (f *Fixture) serviceProvider(id string) *ServiceProvider {
	for i := range f.ServiceProviders {
		if f.ServiceProviders[i].ID == id {
			return &f.ServiceProviders[i]
		}
	}
	return nil
}

func (f *Fixture) mvpd(id string) *MVPD {
	for i := range f.MVPDs {
		if f.MVPDs[i].ID == id {
			return &f.MVPDs[i]
		}
	}
	return nil
}

// integration returns the MVPD when it is integrated with the service
// provider.
func (f *Fixture) integration(sp *ServiceProvider, mvpd string) *MVPD {
	if sp == nil || !slices.Contains(sp.MVPDs, mvpd) {
		return nil
	}
	return f.mvpd(mvpd)
}

func (f *Fixture) user(username string) *User {
	for i := range f.Users {
		if f.Users[i].Username == username {
			return &f.Users[i]
		}
	}
	return nil
}

func (f *Fixture) statement(s string) *SoftwareStatement {
	for i := range f.SoftwareStatements {
		if f.SoftwareStatements[i].Statement == s {
			return &f.SoftwareStatements[i]
		}
	}
	return nil
}

// validRedirect reports whether raw is an absolute URL with a scheme, which
// is what v2 needs to send a browser there.
func validRedirect(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "")
}

func (f *Fixture) authnTTL() time.Duration { return time.Duration(f.TTLs.Authentication) }
