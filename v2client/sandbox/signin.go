package sandbox

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// ErrSignInRejected is returned by SignIn when the MVPD form refuses the
// credentials.
var ErrSignInRejected = errors.New("mvpd sign-in rejected")

const maxHops = 20

// SignIn acts as the user's browser: it follows redirects from startURL
// (any host, e.g. a gateway's authenticate URL that sends the browser on to
// the sandbox) to the mock MVPD form, fills in username and password, posts
// it, and follows the redirects that come back while they stay on hosts
// already visited. It stops at the first redirect to another host — the app's
// redirectUrl, usually — without fetching it, and returns that URL; if every
// hop stays on visited hosts it returns the URL of the final page.
//
// client's Jar, Transport and Timeout are used; its CheckRedirect is not.
func SignIn(ctx context.Context, client *http.Client, startURL, username, password string) (string, error) {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	visited := map[string]bool{}

	// To the login form.
	page, body, err := follow(ctx, &c, http.MethodGet, startURL, nil, visited, false)
	if err != nil {
		return "", err
	}
	action, fields, err := loginForm(page, body)
	if err != nil {
		return "", err
	}
	fields.Set("username", username)
	fields.Set("password", password)

	landed, body, err := follow(ctx, &c, http.MethodPost, action, fields, visited, true)
	if err != nil {
		return "", err
	}
	if _, _, formErr := loginForm(landed, body); formErr == nil {
		msg := "the form was shown again"
		if m := regexp.MustCompile(`(?s)<p class="error"[^>]*>(.*?)</p>`).FindStringSubmatch(body); m != nil {
			msg = html.UnescapeString(m[1])
		}
		return "", fmt.Errorf("%w: %s", ErrSignInRejected, msg)
	}
	return landed, nil
}

// follow requests target and follows redirects. With stayOnVisited, a
// redirect to a host not seen before ends the walk at that URL (unfetched).
// It returns the final URL and, when fetched, its body.
func follow(ctx context.Context, c *http.Client, method, target string, form url.Values, visited map[string]bool, stayOnVisited bool) (string, string, error) {
	for range maxHops {
		u, err := url.Parse(target)
		if err != nil {
			return "", "", fmt.Errorf("sign-in: bad URL %q: %w", target, err)
		}
		if stayOnVisited && !visited[u.Host] {
			return target, "", nil
		}
		visited[u.Host] = true
		var rd io.Reader
		if form != nil {
			rd = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, target, rd)
		if err != nil {
			return "", "", fmt.Errorf("sign-in: %w", err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			return "", "", fmt.Errorf("sign-in: %s %s: %w", method, target, err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return "", "", fmt.Errorf("sign-in: reading %s: %w", target, err)
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			if err != nil {
				return "", "", fmt.Errorf("sign-in: redirect from %s without Location: %w", target, err)
			}
			target, method, form = loc.String(), http.MethodGet, nil
		case resp.StatusCode == http.StatusOK:
			return target, string(b), nil
		default:
			return "", "", fmt.Errorf("sign-in: %s %s: status %d", method, target, resp.StatusCode)
		}
	}
	return "", "", fmt.Errorf("sign-in: more than %d redirects from %s", maxHops, target)
}

// loginForm finds the form with a password input and returns its absolute
// action and its other fields.
func loginForm(pageURL, body string) (string, url.Values, error) {
	fm := regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`).FindAllStringSubmatch(body, -1)
	attr := func(tag, name string) (string, bool) {
		m := regexp.MustCompile(`(?i)\b` + name + `\s*=\s*"([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return "", false
		}
		return html.UnescapeString(m[1]), true
	}
	for _, f := range fm {
		inputs := regexp.MustCompile(`(?i)<input\b[^>]*>`).FindAllString(f[2], -1)
		fields := url.Values{}
		hasUser, hasPass := false, false
		for _, in := range inputs {
			name, _ := attr(in, "name")
			switch name {
			case "username":
				hasUser = true
			case "password":
				hasPass = true
			case "":
			default:
				v, _ := attr(in, "value")
				fields.Set(name, v)
			}
		}
		if !hasUser || !hasPass {
			continue
		}
		action, _ := attr(f[1], "action")
		base, err := url.Parse(pageURL)
		if err != nil {
			return "", nil, fmt.Errorf("sign-in: bad page URL: %w", err)
		}
		ref, err := url.Parse(action)
		if err != nil {
			return "", nil, fmt.Errorf("sign-in: bad form action %q: %w", action, err)
		}
		return base.ResolveReference(ref).String(), fields, nil
	}
	return "", nil, fmt.Errorf("sign-in: no login form at %s", pageURL)
}
