package translate

import (
	"regexp"
	"strings"
)

// userAgentFacts are the device facts a User-Agent reveals.
type userAgentFacts struct {
	model, osName, osVersion string
}

var (
	uaRoku    = regexp.MustCompile(`Roku(?:/DVP-(\d+(?:\.\d+)*))?`)
	uaAndroid = regexp.MustCompile(`Android (\d+(?:\.\d+)*)(?:; ([^;)]+?)(?: Build/[^;)]*)?\))?`)
	uaIOS     = regexp.MustCompile(`(iPhone|iPad|iPod).*? OS (\d+(?:_\d+)*)`)
	uaTVOS    = regexp.MustCompile(`(?:AppleTV|tvOS)[ /]?(\d+(?:\.\d+)*)?`)
	uaWebOS   = regexp.MustCompile(`(?:Web0S|webOS)(?:[ /](\d+(?:\.\d+)*))?`)
	uaWindows = regexp.MustCompile(`Windows NT (\d+(?:\.\d+)*)`)
	uaMac     = regexp.MustCompile(`Mac OS X (\d+(?:[._]\d+)*)`)
	uaCrOS    = regexp.MustCompile(`CrOS \S+ (\d+(?:\.\d+)*)`)
)

// parseUserAgent recognises the platforms of v2's closed osName list in a
// User-Agent. Older devices send no device information at all, and v2 gives
// unknown devices shorter authentication lifetimes, so a best guess beats
// "unknown".
func parseUserAgent(ua string) userAgentFacts {
	switch {
	case ua == "":
		return userAgentFacts{}
	case uaRoku.MatchString(ua):
		m := uaRoku.FindStringSubmatch(ua)
		return userAgentFacts{model: "Roku", osName: "Roku OS", osVersion: m[1]}
	case uaAndroid.MatchString(ua):
		m := uaAndroid.FindStringSubmatch(ua)
		return userAgentFacts{model: strings.TrimSpace(m[2]), osName: "Android", osVersion: m[1]}
	case uaTVOS.MatchString(ua):
		m := uaTVOS.FindStringSubmatch(ua)
		return userAgentFacts{model: "AppleTV", osName: "tvOS", osVersion: m[1]}
	case uaIOS.MatchString(ua):
		m := uaIOS.FindStringSubmatch(ua)
		return userAgentFacts{model: m[1], osName: "iOS", osVersion: strings.ReplaceAll(m[2], "_", ".")}
	case uaWebOS.MatchString(ua):
		m := uaWebOS.FindStringSubmatch(ua)
		return userAgentFacts{osName: "webOS", osVersion: m[1]}
	case uaWindows.MatchString(ua):
		return userAgentFacts{osName: "Windows", osVersion: uaWindows.FindStringSubmatch(ua)[1]}
	case uaCrOS.MatchString(ua):
		return userAgentFacts{osName: "Chrome OS", osVersion: uaCrOS.FindStringSubmatch(ua)[1]}
	case uaMac.MatchString(ua):
		return userAgentFacts{osName: "Mac OS", osVersion: strings.ReplaceAll(uaMac.FindStringSubmatch(ua)[1], "_", ".")}
	case strings.Contains(ua, "Linux"):
		return userAgentFacts{osName: "Linux"}
	}
	return userAgentFacts{}
}
