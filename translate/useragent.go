package translate

import (
	"regexp"
	"strings"
)

// uaFact is one device information key a User-Agent reveals reliably.
type uaFact struct{ key, value string }

// userAgentFacts are the device information keys a User-Agent reveals
// reliably, in X-Device-Info's terms: osName, osFamily and osVendor from
// their closed value lists (REST API v2 appendix, "Header - X-Device-Info"),
// model and manufacturer as the platform's own cookbook on that page names
// them, versions only where the platform states them. What a User-Agent
// does not reveal reliably is left out, for Adobe's own extraction from the
// User-Agent header, rather than invented.
type userAgentFacts []uaFact

var (
	uaRoku        = regexp.MustCompile(`\bRoku/DVP-(\d+(?:\.\d+)*)`)
	uaPlayStation = regexp.MustCompile(`PlayStation(?:; PlayStation)? (\d)(?:[ /](\d+(?:\.\d+)*))?`)
	uaXbox        = regexp.MustCompile(`\bXbox(?:; (Xbox [^;)]+))?`)
	uaTizen       = regexp.MustCompile(`\bTizen[ /]?(\d+(?:\.\d+)*)?`)
	uaWebOS       = regexp.MustCompile(`\b(?:Web0S|webOS)(?:[ /;]\s*(?:[A-Za-z]+[ /])?(\d+(?:\.\d+)+))?`)
	uaAppleTV     = regexp.MustCompile(`\b(AppleTV\d+,\d+)/(\d+(?:\.\d+)*)|\bApple ?TV\b.*? OS (\d+(?:_\d+)*)|\btvOS[ /](\d+(?:\.\d+)*)`)
	uaAndroid     = regexp.MustCompile(`Android (\d+(?:\.\d+)*)(?:; ([^;)]+?)(?: Build/[^;)]*)?[;)])?`)
	uaIOS         = regexp.MustCompile(`\((iPhone|iPad|iPod)\b.*? OS (\d+(?:_\d+)*)`)
	uaWindows     = regexp.MustCompile(`Windows NT (\d+(?:\.\d+)*)`)
)

// parseUserAgent returns the facts ua reveals. Families are tried from the
// most specific: a Tizen or webOS TV, an Xbox or a Fire TV also names Linux,
// Windows or Android.
func parseUserAgent(ua string) userAgentFacts {
	if ua == "" {
		return nil
	}
	if m := uaRoku.FindStringSubmatch(ua); m != nil {
		// Roku's cookbook: model "Roku"; its osName is the list's "Roku OS".
		return userAgentFacts{{"model", "Roku"}, {"osName", "Roku OS"}, {"osFamily", "Roku OS"},
			{"osVendor", "Roku"}, {"osVersion", m[1]}}
	}
	if m := uaPlayStation.FindStringSubmatch(ua); m != nil {
		// No osName for PlayStation in the closed list: the family says it.
		f := userAgentFacts{{"model", "PlayStation " + m[1]}, {"manufacturer", "Sony"}, {"osFamily", "PlayStation OS"},
			{"osVendor", "Sony"}, {"primaryHardwareType", "GamesConsole"}}
		if m[2] != "" {
			f = append(f, uaFact{"osVersion", m[2]})
		}
		return f
	}
	if m := uaXbox.FindStringSubmatch(ua); m != nil {
		f := userAgentFacts{{"manufacturer", "Microsoft"}, {"osName", "Windows"}, {"osFamily", "Windows"},
			{"osVendor", "Microsoft"}, {"primaryHardwareType", "GamesConsole"}}
		if m[1] != "" {
			f = append(f, uaFact{"model", m[1]})
		}
		if w := uaWindows.FindStringSubmatch(ua); w != nil {
			f = append(f, uaFact{"osVersion", w[1]})
		}
		return f
	}
	if m := uaTizen.FindStringSubmatch(ua); m != nil {
		// Tizen is no osName of the closed list; osFamily has it.
		f := userAgentFacts{{"manufacturer", "Samsung"}, {"osFamily", "Tizen"}, {"osVendor", "Samsung"}}
		if m[1] != "" {
			f = append(f, uaFact{"osVersion", m[1]})
		}
		if strings.Contains(ua, "SMART-TV") || strings.Contains(ua, " TV ") {
			f = append(f, uaFact{"primaryHardwareType", "TV"})
		}
		return f
	}
	if m := uaWebOS.FindStringSubmatch(ua); m != nil {
		f := userAgentFacts{{"manufacturer", "LG"}, {"osName", "webOS"}, {"osFamily", "webOS"}, {"osVendor", "LG"}}
		if m[1] != "" {
			f = append(f, uaFact{"osVersion", m[1]})
		}
		if strings.Contains(ua, "SmartTV") {
			f = append(f, uaFact{"primaryHardwareType", "TV"})
		}
		return f
	}
	if m := uaAppleTV.FindStringSubmatch(ua); m != nil {
		// tvOS cookbook: model "AppleTV" (uname's machine when known).
		f := userAgentFacts{{"model", "AppleTV"}, {"manufacturer", "Apple"}, {"osName", "tvOS"}, {"osFamily", "tvOS"},
			{"osVendor", "Apple"}, {"primaryHardwareType", "SetTopBox"}}
		switch {
		case m[1] != "":
			f[0].value = m[1]
			f = append(f, uaFact{"osVersion", m[2]})
		case m[3] != "":
			f = append(f, uaFact{"osVersion", strings.ReplaceAll(m[3], "_", ".")})
		case m[4] != "":
			f = append(f, uaFact{"osVersion", m[4]})
		}
		return f
	}
	if m := uaAndroid.FindStringSubmatch(ua); m != nil {
		model := strings.TrimSpace(m[2])
		if model == "K" || model == "wv" {
			// Chrome's reduced User-Agent: "Android 10; K" names neither
			// the model nor the real version.
			return userAgentFacts{{"osName", "Android"}, {"osFamily", "Android"}}
		}
		f := userAgentFacts{{"osName", "Android"}, {"osFamily", "Android"}, {"osVersion", m[1]}}
		if model != "" {
			f = append(f, uaFact{"model", model})
		}
		if strings.HasPrefix(model, "AFT") {
			// Fire OS cookbook: a Fire TV is osName Android, by Amazon.
			f = append(f, uaFact{"manufacturer", "Amazon"}, uaFact{"osVendor", "Amazon"})
		} else {
			f = append(f, uaFact{"osVendor", "Google"})
		}
		return f
	}
	if m := uaIOS.FindStringSubmatch(ua); m != nil {
		return userAgentFacts{{"model", m[1]}, {"manufacturer", "Apple"}, {"osName", "iOS"}, {"osFamily", "iOS"},
			{"osVendor", "Apple"}, {"osVersion", strings.ReplaceAll(m[2], "_", ".")}}
	}
	// Desktop browsers: their versions are frozen in today's User-Agents
	// (Windows NT 10.0, Mac OS X 10_15_7), so only the platform is told.
	switch {
	case strings.Contains(ua, "Windows NT"):
		return userAgentFacts{{"osName", "Windows"}, {"osFamily", "Windows"}, {"osVendor", "Microsoft"}}
	case strings.Contains(ua, "CrOS "):
		return userAgentFacts{{"osName", "Chrome OS"}, {"osVendor", "Google"}}
	case strings.Contains(ua, "Macintosh"):
		return userAgentFacts{{"osName", "Mac OS"}, {"osFamily", "macOS"}, {"osVendor", "Apple"}}
	case strings.Contains(ua, "X11; Linux") || strings.Contains(ua, "X11; Ubuntu"):
		return userAgentFacts{{"osName", "Linux"}, {"osFamily", "Linux"}}
	}
	return nil
}
