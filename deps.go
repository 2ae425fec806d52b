//go:build tools

package passgw

import (
	_ "github.com/beevik/etree"
	_ "github.com/chromedp/chromedp"
	_ "github.com/getkin/kin-openapi/openapi3filter"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/gorilla/mux"
	_ "github.com/patrickmn/go-cache"
	_ "go.opentelemetry.io/otel"
	_ "golang.org/x/sync/singleflight"
	_ "golang.org/x/tools/txtar"
)
