package translate_test

import (
	"github.com/passgw/passgw/translate"
	"github.com/passgw/passgw/v1api"
)

var _ v1api.Backend = (*translate.Gateway)(nil)
