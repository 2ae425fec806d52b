package translate

import (
	"context"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// DefaultCodePollInterval is the least time between two v2 polls of one
// code: Adobe asks callers to poll profiles/code every 3 to 5 seconds, never
// faster (REST API v2 checklist; server-to-server cookbook).
const DefaultCodePollInterval = 3 * time.Second

// codePoll is the outcome of the last v2 poll of a code (its v2 session
// code), shared by every v1 caller polling it — the device and its login
// web app, on any instance — until the next poll is due.
type codePoll struct {
	At      time.Time        `json:"at"`
	Found   bool             `json:"found,omitempty"`
	MVPD    string           `json:"mvpd,omitempty"`
	Profile v2client.Profile `json:"profile,omitzero"`
	Expired bool             `json:"expired,omitempty"`
	// Gone records that v2 answered invalid_authentication_session: the
	// session will not come back, so the code is never polled again and
	// the registering device's own profiles answer instead.
	Gone bool `json:"gone,omitempty"`
}

func (p *codePoll) authn() *authn {
	if !p.Found {
		return nil
	}
	return &authn{MVPD: p.MVPD, Profile: p.Profile}
}

func codePollKey(rq *Requestor, sessionCode string) string {
	return store.Key("codepoll", rq.ID, sessionCode)
}

// polledCode answers a code poll: from the last poll's outcome while the
// next is not due, else with one v2 poll (concurrent pollers share it),
// whose outcome is kept for the next pollers.
func (g *Gateway) polledCode(ctx context.Context, rq *Requestor, rec *regRecord, caller *v1model.Device, sessionCode string, opts []v2client.Option) (*authn, bool, error) {
	polls := store.JSON[codePoll]{Store: g.store}
	key := codePollKey(rq, sessionCode)
	last, err := polls.Get(ctx, key)
	if err == nil && g.now().Sub(last.At) < g.codePollInterval {
		return last.authn(), last.Expired, nil
	}
	type outcome struct {
		a       *authn
		expired bool
	}
	v, err, _ := g.flights.Do("codepoll\x00"+key, func() (any, error) {
		// The poll is shared by every caller waiting on it, so it must not
		// die with the first caller's request.
		fctx := context.WithoutCancel(ctx)
		last, err := polls.Get(fctx, key)
		if err == nil && g.now().Sub(last.At) < g.codePollInterval {
			return outcome{last.authn(), last.Expired}, nil
		}
		p := codePoll{Gone: last.Gone}
		a, expired, err := g.pollCode(fctx, rq, rec, caller, sessionCode, opts, &p)
		if err != nil {
			return nil, err
		}
		p.At, p.Expired = g.now(), expired
		if a != nil {
			p.Found, p.MVPD, p.Profile = true, a.MVPD, a.Profile
		}
		ttl := g.codePollInterval
		if p.Gone {
			// Remembered as long as the code can be asked about.
			ttl = max(ttl, g.expiredMem)
		}
		if ttl > 0 {
			if err := polls.Set(fctx, key, p, ttl); err != nil {
				g.log.WarnContext(fctx, "keeping a code poll", "error", err)
			}
		}
		return outcome{a, expired}, nil
	})
	if err != nil {
		return nil, false, err
	}
	o := v.(outcome)
	return o.a, o.expired, nil
}

// pollCode asks v2 for the profile of sessionCode, unless v2 already said
// the session is gone; then, and when it says so now, the device that
// registered the code answers with its own profiles.
func (g *Gateway) pollCode(ctx context.Context, rq *Requestor, rec *regRecord, caller *v1model.Device, sessionCode string, opts []v2client.Option, p *codePoll) (*authn, bool, error) {
	if !p.Gone {
		ps, err := g.client.ProfileByCode(ctx, rq.ServiceProvider, sessionCode, opts...)
		switch {
		case err == nil:
			a, ok := chooseProfile(ps.Profiles, g.now())
			if !ok {
				return nil, false, nil
			}
			if rec != nil && !a.Profile.NotAfter.IsZero() {
				// The login is the registering device's: remember it as
				// such, so that once v2 forgets the code the device's
				// state tells an expired login from none, and keep the
				// answer as the device's profiles.
				dv := g.recordDevice(rq, rec, caller)
				seen, err := g.seeProfile(ctx, dv, a)
				if err != nil {
					return nil, false, err
				}
				g.seedProfiles(ctx, dv, ps.Profiles, seen)
			}
			return a, false, nil
		case invalidSession(err):
			p.Gone = true
		default:
			return nil, false, err
		}
	}
	if rec == nil {
		return nil, false, nil
	}
	return g.recordAuthn(ctx, rq, rec, caller)
}

// superseded reports whether the device that registered rec has registered
// a newer code since: Adobe's flows end polling on a code once a new one is
// issued.
func (g *Gateway) superseded(ctx context.Context, rq *Requestor, rec *regRecord, code string, caller *v1model.Device) bool {
	dv := g.recordDevice(rq, rec, caller)
	latest, err := g.stateGet(ctx, dv, dv.key(pendingCodeKind))
	return err == nil && len(latest) > 0 && string(latest) != code
}

// forgetCodePoll drops the last poll's outcome of sessionCode, when a login
// with it starts (the second screen's authenticate): the poll after the
// login asks v2 rather than answer the "pending" of before.
func (g *Gateway) forgetCodePoll(ctx context.Context, rq *Requestor, sessionCode string) {
	if err := g.store.Delete(ctx, codePollKey(rq, sessionCode)); err != nil {
		g.log.WarnContext(ctx, "forgetting a code poll", "error", err)
	}
}
