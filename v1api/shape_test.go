package v1api

import "testing"

func TestShapes(t *testing.T) {
	x, err := XMLShape([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + `<ns2:regcode xmlns:ns2="u"><id>1</id><info><deviceId>x</deviceId></info></ns2:regcode>`))
	if err != nil {
		t.Fatal(err)
	}
	if x != "/ns2:regcode\n/ns2:regcode/id\n/ns2:regcode/info\n/ns2:regcode/info/deviceId\n" {
		t.Errorf("XMLShape = %q", x)
	}
	j, err := JSONShape([]byte(`{"b":"1","a":1,"r":[{"ok":true}],"d":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if j != " object\n.b string\n.a number\n.r array\n.r[0] object\n.r[0].ok boolean\n.d null\n" {
		t.Errorf("JSONShape = %q", j)
	}
	if _, err := JSONShape([]byte(`{"a":1} x`)); err == nil {
		t.Error("trailing data accepted")
	}
}
