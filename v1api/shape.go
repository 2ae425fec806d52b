package v1api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
)

// XMLShape lists the element paths of an XML document in document order,
// one per line, text ignored: two bodies with the same shape have the same
// element names (prefixes included), nesting and order.
func XMLShape(body []byte) (string, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		return "", err
	}
	root := doc.Root()
	if root == nil {
		return "", errors.New("no root element")
	}
	var sb strings.Builder
	var walk func(e *etree.Element, prefix string)
	walk = func(e *etree.Element, prefix string) {
		p := prefix + "/" + e.FullTag()
		sb.WriteString(p + "\n")
		for _, c := range e.ChildElements() {
			walk(c, p)
		}
	}
	walk(root, "")
	return sb.String(), nil
}

// JSONShape lists the member paths of a JSON document with their JSON
// types, in document order, one per line: two bodies with the same shape
// have the same keys, order and value types.
func JSONShape(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var sb strings.Builder
	var value func(path string) error
	value = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				sb.WriteString(path + " object\n")
				for dec.More() {
					k, err := dec.Token()
					if err != nil {
						return err
					}
					name, _ := k.(string)
					if err := value(path + "." + name); err != nil {
						return err
					}
				}
			case '[':
				sb.WriteString(path + " array\n")
				for i := 0; dec.More(); i++ {
					if err := value(fmt.Sprintf("%s[%d]", path, i)); err != nil {
						return err
					}
				}
			}
			_, err = dec.Token() // the closing delimiter
			return err
		case string:
			sb.WriteString(path + " string\n")
		case json.Number:
			sb.WriteString(path + " number\n")
		case bool:
			sb.WriteString(path + " boolean\n")
		case nil:
			sb.WriteString(path + " null\n")
		}
		return nil
	}
	if err := value(""); err != nil {
		return "", err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", errors.New("trailing data after the JSON value")
	}
	return sb.String(), nil
}
