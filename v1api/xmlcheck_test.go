package v1api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
)

// xmlWellFormed parses body strictly with encoding/xml.
func xmlWellFormed(body []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	roots := 0
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 1 {
		return errors.New("not exactly one root element")
	}
	return nil
}
