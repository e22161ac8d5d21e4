package cxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cxmlgate/punchout/fixtures"
)

// FuzzParse holds Parse and Marshal to their promises on any input: Parse
// never panics and refuses only with an *Error; whatever it accepts,
// Marshal writes without error as a document Parse accepts again.
func FuzzParse(f *testing.F) {
	for _, name := range sampleNames(f) {
		f.Add(readSample(f, name))
	}
	for _, tc := range parseSeeds {
		f.Add([]byte(tc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fuzzing engine sets no time limit per input, so a hang would
		// only stall it. Crash the worker instead: the engine then keeps
		// the input as a failure.
		watchdog := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("Parse and Marshal took over 10s on %q", data))
		})
		defer watchdog.Stop()
		d, err := Parse(data, Limits{})
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse refused with %T, not *cxml.Error: %v", err, err)
			}
			if ce.Code < 400 || ce.Code > 599 {
				t.Fatalf("Parse refused with status %d", ce.Code)
			}
			return
		}
		out, err := Marshal(d)
		if err != nil {
			t.Fatalf("Marshal of a parsed document failed: %v", err)
		}
		back, err := Parse(out, Limits{})
		if err != nil {
			t.Fatalf("Marshal wrote a document Parse refuses: %v\n--- input ---\n%q\n--- output ---\n%s", err, data, out)
		}
		// A body of an error Response is not written; everything else
		// keeps its kind.
		if d.Response == nil && back.Kind() != d.Kind() {
			t.Fatalf("kind %q came back as %q\n%s", d.Kind(), back.Kind(), out)
		}
	})
}

// parseSeeds are FuzzParse's hand-written inputs: hostile markup, deep
// nesting, other encodings, foreign elements.
var parseSeeds = []string{
	`<!DOCTYPE cXML [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><cXML payloadID="1" timestamp="x"><Response><Status code="200" text="&b;"/></Response></cXML>`,
	`<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.013/cXML.dtd"[]><cxml payloadID="1" timestamp="x"><Response><Status code="1" text=""/></Response></cxml>`,
	`<cXML payloadID="p" timestamp="t">` + strings.Repeat("<a>", 70) + strings.Repeat("</a>", 70) + `</cXML>`,
	string(cxmlDoc("", editRequest)),
	string(cxmlDoc(`<?xml version="1.0" encoding="ISO-8859-1"?>`, "<PunchOutSetupRequest operation=\"create\"><BuyerCookie>\xe9</BuyerCookie></PunchOutSetupRequest>")),
	string(cxmlDoc("", `<Foo:Bar xmlns:Foo="urn:x"><Extrinsic name="a"><b/></Extrinsic></Foo:Bar>`)),
	"\ufeff<cXML payloadID='a' timestamp='b'><Header/><Message><PunchOutOrderMessage><ItemIn quantity='1'/></PunchOutOrderMessage></Message></cXML>",
	// Attributes twice, which are not well formed.
	string(cxmlDoc("", `<ProfileRequest a="1" a="2"/>`)),
	`<cXML payloadID="1" payloadID="2" timestamp="x"><Response><Status code="200" text="OK" xml:lang="en" xml:lang="en"/></Response></cXML>`,
	string(cxmlDoc("", `<ProfileRequest><p:x p:a="1" q:a="2" p:a="3"/></ProfileRequest>`)),
	// Other encodings, and UTF-16 after an ASCII declaration.
	string(utf16Bytes(string(cxmlDoc(`<?xml version="1.0" encoding="UTF-16"?>`, `<ProfileRequest/>`)), false, true)),
	string(utf16Bytes(string(cxmlDoc(`<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE cXML [<!ENTITY x "y">]>`, `<ProfileRequest/>`)), true, false)),
	`<?xml version="1.0" encoding="UTF-16"?>` + string(utf16Bytes(string(cxmlDoc(`<!DOCTYPE cXML [<!ENTITY x "y">]>`, `<ProfileRequest/>`)), false, false)),
	// Two Headers, a Header after the body.
	string(headerDoc("", "<Header/>", "")),
	`<cXML payloadID="1"><Request><ProfileRequest/></Request><Header/></cXML>`,
}

// FuzzFastRead holds fastRead to etree's reader on any input: whatever
// fastRead reads, etree reads too, into the same tree. A small depth limit
// as well as the default one puts the limit within the fuzzer's reach.
func FuzzFastRead(f *testing.F) {
	for _, name := range sampleNames(f) {
		f.Add(readSample(f, name))
	}
	for _, fx := range fixtures.All() {
		f.Add(fixtures.Read(fx))
	}
	for _, tc := range parseSeeds {
		f.Add([]byte(tc))
	}
	for _, tc := range fastReadCases {
		f.Add([]byte(tc.doc))
	}
	for _, tc := range duplicateCases {
		f.Add([]byte(tc.doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		watchdog := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("fastRead and etree took over 10s on %q", data))
		})
		defer watchdog.Stop()
		for _, depth := range []int{DefaultMaxDepth, 3} {
			checkFastRead(t, data, depth)
		}
		if hasDuplicateAttr(data) {
			if _, ok := fastRead(data, DefaultMaxDepth); ok {
				t.Fatalf("fastRead read a document with an attribute twice:\n%q", data)
			}
			if _, err := etreeRead(data, DefaultMaxDepth); err == nil {
				t.Fatalf("etree's path read a document with an attribute twice:\n%q", data)
			}
		}
	})
}

// hasDuplicateAttr is FuzzFastRead's oracle: whether encoding/xml, reading
// data as readTree has etree read it, finds a start tag with two
// attributes of the same name before any error.
func hasDuplicateAttr(data []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = passThrough
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			for i, a := range se.Attr {
				for _, b := range se.Attr[:i] {
					if a.Name == b.Name {
						return true
					}
				}
			}
		}
	}
}

// FuzzParseTimestamp: ParseTimestamp never fails or panics, and whatever
// it reads, FormatTime writes in a form it reads back as the same instant.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2024-09-21T16:34:09-04:00", "2010-12-22T19:03:37Z", "2018-01-01T00:00:00-0500", "2016-04-20T04:34:19",
		"2020-09-25 15:30:43", "3/30/2015 11:56:16 AM", "Mon May 19 18:29:48 +0000 2008", "--T+00:00",
		"2024-09-21T16:34:09.123456789+14:00", "0000-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts := ParseTimestamp(s)
		if ts.Raw != s {
			t.Fatalf("Raw %q, want %q", ts.Raw, s)
		}
		if !ts.Valid {
			if !ts.Time.IsZero() {
				t.Fatalf("invalid timestamp with a time: %v", ts.Time)
			}
			return
		}
		written := FormatTime(ts.Time)
		back := ParseTimestamp(written)
		if !back.Valid || !back.Zoned {
			t.Fatalf("%q read as %v, written as %q, which does not read back", s, ts.Time, written)
		}
		if want := ts.Time.Truncate(time.Second); !back.Time.Equal(want) {
			t.Fatalf("%q: wrote %q, read back %v, want %v", s, written, back.Time, want)
		}
	})
}

// FuzzParseAmount: ParseAmount accepts only plain decimals, and what it
// accepts survives formatting in any currency.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1505.0", ".00", "030", "-3.20", "0.0125", "1,000.00", "400,00", "1e3", "", " 7 ", "+5", "-.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAmount(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(s, ",eE_") {
			t.Fatalf("ParseAmount accepted %q", s)
		}
		for _, cur := range []string{"JPY", "USD", "BHD"} {
			out := FormatAmount(d, cur)
			back, err := ParseAmount(out)
			if err != nil {
				t.Fatalf("%q formatted in %s as %q, which does not parse: %v", s, cur, out, err)
			}
			if !back.Equal(d) {
				t.Fatalf("%q formatted in %s as %q, read back as %s", s, cur, out, back)
			}
		}
	})
}
