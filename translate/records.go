package translate

import "github.com/passgw/passgw/translate/record"

// The gateway's stored state is package record's, with its versioned binary
// form; these are the names the translation knows it by.
type (
	regRecord    = record.Registration
	profileSet   = record.ProfileSet
	tempPass     = record.TempPass
	seenProfile  = record.SeenProfile
	keptDecision = record.Decision
)
