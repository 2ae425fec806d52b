package v2client

// Every authorize and media token call decodes a decisions answer. Its
// usual form is small and fixed: decisions of known fields holding plain
// strings, booleans, integer timestamps and a token. decodeDecisions reads
// exactly that form without reflection and reuses the strings the request
// already holds; on anything else (an item-level error, an unknown or
// repeated field, escapes or non-ASCII text in a string, a fraction or
// exponent in a number) it gives up, and the answer goes to encoding/json,
// whose reading is the reference: when decodeDecisions succeeds, its result
// is what encoding/json would have produced (FuzzDecisionsDecoder).

// decisionsScanner reads one answer; a false result of any method means
// "not the usual form".
type decisionsScanner struct {
	b []byte
	i int
	// sp, mvpd and resources are the request's, which the answer
	// repeats: their strings are reused rather than copied.
	sp, mvpd  string
	resources []string
}

// decodeDecisions decodes body into out when it has the usual form and
// reports whether it did; out is left unchanged otherwise.
func decodeDecisions(body []byte, out *Decisions, sp, mvpd string, resources []string) bool {
	s := decisionsScanner{b: body, sp: sp, mvpd: mvpd, resources: resources}
	var ds Decisions
	if !s.expect('{') || !s.key("decisions") || !s.expect('[') {
		return false
	}
	ds.Decisions = make([]Decision, 0, len(resources))
	if !s.peek(']') {
		for {
			var d Decision
			if !s.decision(&d) {
				return false
			}
			ds.Decisions = append(ds.Decisions, d)
			if s.peek(',') {
				s.i++
				continue
			}
			break
		}
	}
	if !s.expect(']') || !s.expect('}') {
		return false
	}
	s.space()
	if s.i != len(s.b) {
		return false
	}
	*out = ds
	return true
}

func (s *decisionsScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips white space and reports whether the next byte is c.
func (s *decisionsScanner) peek(c byte) bool {
	s.space()
	return s.i < len(s.b) && s.b[s.i] == c
}

// expect consumes c after white space.
func (s *decisionsScanner) expect(c byte) bool {
	if !s.peek(c) {
		return false
	}
	s.i++
	return true
}

// rawString reads a string of printable ASCII without escapes and returns
// its bytes.
func (s *decisionsScanner) rawString() ([]byte, bool) {
	if !s.expect('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// key reads `"name":` for the expected name.
func (s *decisionsScanner) key(name string) bool {
	k, ok := s.rawString()
	return ok && string(k) == name && s.expect(':')
}

// str reads a string value, returning a known string when it is one.
func (s *decisionsScanner) str() (string, bool) {
	raw, ok := s.rawString()
	if !ok {
		return "", false
	}
	for _, k := range [...]string{s.sp, s.mvpd, SourceMVPD, SourceTempPass, SourceDegradation, SourceDummy} {
		if string(raw) == k {
			return k, true
		}
	}
	for _, k := range s.resources {
		if string(raw) == k {
			return k, true
		}
	}
	return string(raw), true
}

// delimited reports whether the value just read ends where a JSON value may
// end, so that `truex` or `12.5` is not taken for `true` or `12`.
func (s *decisionsScanner) delimited() bool {
	if s.i == len(s.b) {
		return true
	}
	switch s.b[s.i] {
	case ' ', '\t', '\n', '\r', ',', '}', ']':
		return true
	}
	return false
}

func (s *decisionsScanner) literal(word string) bool {
	s.space()
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return s.delimited()
}

func (s *decisionsScanner) boolean() (bool, bool) {
	switch {
	case s.peek('t'):
		return true, s.literal("true")
	case s.peek('f'):
		return false, s.literal("false")
	}
	return false, false
}

// integer reads -?(0|[1-9][0-9]*) of at most 18 digits, which fits an
// int64 exactly.
func (s *decisionsScanner) integer() (int64, bool) {
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	start := s.i
	var n int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		n = n*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || digits > 18 || (digits > 1 && s.b[start] == '0') {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// millis reads a timestamp as Millis.UnmarshalJSON would: an integer, a
// string of one, an empty string or null.
func (s *decisionsScanner) millis() (Millis, bool) {
	switch {
	case s.peek('n'):
		return Millis{}, s.literal("null")
	case s.peek('"'):
		s.i++
		if s.i < len(s.b) && s.b[s.i] == '"' {
			s.i++
			return Millis{}, true
		}
		n, ok := s.integer()
		if !ok || s.i >= len(s.b) || s.b[s.i] != '"' {
			return Millis{}, false
		}
		s.i++
		return Millis{ms: n, set: true, quoted: true}, true
	}
	s.space()
	n, ok := s.integer()
	if !ok || !s.delimited() {
		return Millis{}, false
	}
	return Millis{ms: n, set: true}, true
}

// object reads the members of an object whose opening brace is next,
// handing each key to member, which reads the value. A repeated key is not
// the usual form (encoding/json would merge or overwrite).
func (s *decisionsScanner) object(member func(key []byte) bool) bool {
	if !s.expect('{') {
		return false
	}
	if s.expect('}') {
		return true
	}
	var seen uint16
	for {
		k, ok := s.rawString()
		if !ok || !s.expect(':') {
			return false
		}
		bit := memberBit(k)
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		if !member(k) {
			return false
		}
		if s.expect(',') {
			continue
		}
		return s.expect('}')
	}
}

// memberBit numbers the member names the usual form has; 0 for any other.
func memberBit(k []byte) uint16 {
	switch string(k) {
	case "resource":
		return 1 << 0
	case "serviceProvider":
		return 1 << 1
	case "mvpd":
		return 1 << 2
	case "source":
		return 1 << 3
	case "authorized":
		return 1 << 4
	case "token":
		return 1 << 5
	case "notBefore":
		return 1 << 6
	case "notAfter":
		return 1 << 7
	case "issuedAt":
		return 1 << 8
	case "serializedToken":
		return 1 << 9
	}
	return 0
}

func (s *decisionsScanner) decision(d *Decision) bool {
	return s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "resource":
			d.Resource, ok = s.str()
		case "serviceProvider":
			d.ServiceProvider, ok = s.str()
		case "mvpd":
			d.MVPD, ok = s.str()
		case "source":
			d.Source, ok = s.str()
		case "authorized":
			d.Authorized, ok = s.boolean()
		case "notBefore":
			d.NotBefore, ok = s.millis()
		case "notAfter":
			d.NotAfter, ok = s.millis()
		case "token":
			t := new(MediaToken)
			d.Token, ok = t, s.token(t)
		}
		return ok
	})
}

func (s *decisionsScanner) token(t *MediaToken) bool {
	return s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "issuedAt":
			t.IssuedAt, ok = s.millis()
		case "notBefore":
			t.NotBefore, ok = s.millis()
		case "notAfter":
			t.NotAfter, ok = s.millis()
		case "serializedToken":
			var raw []byte
			raw, ok = s.rawString()
			t.SerializedToken = string(raw)
		}
		return ok
	})
}
