package cxml

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/fixtures"
)

// checkEnvelope holds ReadEnvelope to Parse on data. Whatever Parse
// accepts, ReadEnvelope reads, with the same payloadID, timestamp and
// Header, and for a request the same kind; Envelope.Parse then gives what
// Parse gives. Whatever ReadEnvelope refuses, Parse refuses: with the same
// code, or 406 for a defect after where ReadEnvelope stopped when
// ReadEnvelope answers 400.
func checkEnvelope(t *testing.T, data []byte) {
	t.Helper()
	env, envErr := ReadEnvelope(data, Limits{})
	doc, err := Parse(data, Limits{})
	if envErr != nil {
		var ce *Error
		if !errors.As(envErr, &ce) {
			t.Fatalf("ReadEnvelope refused with %T, not *cxml.Error: %v", envErr, envErr)
		}
		if err == nil {
			t.Fatalf("ReadEnvelope refused (%v) what Parse accepts:\n%q", envErr, data)
		}
		var pe *Error
		require.ErrorAs(t, err, &pe)
		if pe.Code != ce.Code && (ce.Code != StatusBadRequest || pe.Code != StatusNotAcceptable) {
			t.Fatalf("ReadEnvelope refused with %d (%s), Parse with %d (%s):\n%q", ce.Code, ce.Detail, pe.Code, pe.Detail, data)
		}
		return
	}
	if n := boolCount(env.Request, env.Response, env.Message); n != 1 {
		t.Fatalf("%d of Request, Response and Message are true:\n%q", n, data)
	}
	again, againErr := env.Parse(Limits{})
	if fmt.Sprint(againErr) != fmt.Sprint(err) {
		t.Fatalf("Envelope.Parse answers %v, Parse %v:\n%q", againErr, err, data)
	}
	if err != nil {
		return
	}
	assert.Equal(t, doc.Kind(), again.Kind(), "Envelope.Parse")
	// Times in the same zone may carry different *time.Location values.
	sameTime := env.Timestamp.Raw == doc.Timestamp.Raw && env.Timestamp.Valid == doc.Timestamp.Valid &&
		env.Timestamp.Zoned == doc.Timestamp.Zoned && env.Timestamp.Time.Equal(doc.Timestamp.Time)
	if env.PayloadID != doc.PayloadID || !sameTime {
		t.Fatalf("ReadEnvelope read payloadID %q, timestamp %#v; Parse %q, %#v:\n%q", env.PayloadID, env.Timestamp, doc.PayloadID, doc.Timestamp, data)
	}
	if !assert.Equal(t, doc.Header, env.Header, "Header") {
		t.Fatalf("the Headers differ:\n%q", data)
	}
	if env.Request != (doc.Request != nil) || env.Response != (doc.Response != nil) || env.Message != (doc.Message != nil) {
		t.Fatalf("ReadEnvelope read request %t, response %t, message %t; Parse read a %s:\n%q", env.Request, env.Response, env.Message, doc.Kind(), data)
	}
	if doc.Request != nil && env.Kind != doc.Request.Body.ElementName() {
		t.Fatalf("ReadEnvelope read a %q, Parse a %q:\n%q", env.Kind, doc.Request.Body.ElementName(), data)
	}
}

func boolCount(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// TestReadEnvelopeMatchesParse holds ReadEnvelope to Parse on every
// sample, fixture, seed and hand-written case.
func TestReadEnvelopeMatchesParse(t *testing.T) {
	for _, name := range sampleNames(t) {
		t.Run(name, func(t *testing.T) {
			data := readSample(t, name)
			checkEnvelope(t, data)
			_, err := ReadEnvelope(data, Limits{})
			assert.NoError(t, err, "every sample reads")
		})
	}
	for _, f := range fixtures.All() {
		t.Run(f.Name, func(t *testing.T) { checkEnvelope(t, fixtures.Read(f)) })
	}
	for _, data := range envelopeSeeds() {
		t.Run(fmt.Sprintf("%.60q", data), func(t *testing.T) { checkEnvelope(t, data) })
	}
}

// envelopeSeeds are the inputs FuzzReadEnvelope and
// TestReadEnvelopeMatchesParse share beyond the samples and fixtures.
func envelopeSeeds() [][]byte {
	var out [][]byte
	for _, s := range parseSeeds {
		out = append(out, []byte(s))
	}
	for _, tc := range duplicateCases {
		out = append(out, []byte(tc.doc))
	}
	for _, tc := range envelopeCases {
		out = append(out, []byte(tc.doc))
	}
	for _, tc := range envelopeRefusals {
		out = append(out, tc.doc)
	}
	for _, b := range encodings(string(cxmlDoc(`<?xml version="1.0"?>`, `<OrderRequest/>`))) {
		out = append(out, b)
	}
	return out
}

const ts = `timestamp="2024-09-21T16:34:09-04:00"`

// envelopeCases are documents ReadEnvelope reads, and what it reads of them.
var envelopeCases = []struct {
	name, doc string
	want      Envelope // without Text
}{
	{"cxmlDoc", string(cxmlDoc("", `<ProfileRequest/>`)), Envelope{PayloadID: "1@test", Timestamp: ParseTimestamp("2024-09-21T16:34:09-04:00"),
		Header: &Header{
			From:   Party{Credentials: []Credential{{Domain: "DUNS", Identity: "b"}}},
			To:     Party{Credentials: []Credential{{Domain: "DUNS", Identity: "s"}}},
			Sender: Sender{Credentials: []Credential{{Domain: "DUNS", Identity: "b", SharedSecret: "x"}}, UserAgent: "t"},
		}, Request: true, Kind: "ProfileRequest"}},
	{"white space trimmed as Parse trims it",
		`<cXML payloadID=" p " timestamp=" x "><Header><Sender><Credential domain=" NetworkID " type=" t "><Identity>` + "\n  id \n" + `</Identity>` +
			`<SharedSecret> s </SharedSecret></Credential><UserAgent> ua </UserAgent></Sender></Header><Request><OrderRequest/></Request></cXML>`,
		Envelope{PayloadID: "p", Timestamp: ParseTimestamp(" x "),
			Header:  &Header{Sender: Sender{Credentials: []Credential{{Domain: "NetworkID", Type: " t ", Identity: "id", SharedSecret: "s"}}, UserAgent: "ua"}},
			Request: true, Kind: "OrderRequest"}},
	{"a prefixed SharedSecret is not the cXML one; the first of each is",
		`<cXML payloadID="p" ` + ts + `><Header><From><Credential domain="d"><x:Identity>no</x:Identity><Identity>a<!--c-->b<![CDATA[&c]]><i>no</i>d</Identity><Identity>no</Identity>` +
			`<x:SharedSecret>no</x:SharedSecret><SharedSecret>yes</SharedSecret><SharedSecret>no</SharedSecret></Credential></From></Header><Request><x:Foo/></Request></cXML>`,
		Envelope{PayloadID: "p", Timestamp: ParseTimestamp("2024-09-21T16:34:09-04:00"),
			Header:  &Header{From: Party{Credentials: []Credential{{Domain: "d", Identity: "ab&cd", SharedSecret: "yes"}}}},
			Request: true, Kind: "Foo"}},
	{"the last From and Sender, the first UserAgent, any prefix on the envelope's elements",
		`<cXML payloadID="p" x:timestamp="t"><x:Header><From><Credential domain="1"/></From><x:From><y:Credential x:domain="2"/></x:From>` +
			`<Sender><UserAgent>first</UserAgent></Sender><Sender><x:UserAgent>a</x:UserAgent><UserAgent>b</UserAgent></Sender><Sender/>` +
			`</x:Header><Stray><Header/></Stray><x:Request><Body/></x:Request></cXML>`,
		Envelope{PayloadID: "p", Timestamp: ParseTimestamp("t"), Header: &Header{From: Party{Credentials: []Credential{{Domain: "2"}}}}, Request: true, Kind: "Body"}},
	{"response without Header", `<?xml version="1.0"?><!-- hi --><cxml payloadID="r" ` + ts + `><Response><Status code="200" text="OK"/></Response></cxml>`,
		Envelope{PayloadID: "r", Timestamp: ParseTimestamp("2024-09-21T16:34:09-04:00"), Response: true, Kind: "Status"}},
	{"message", `<cXML payloadID="m"><Header/><Message><PunchOutOrderMessage/></Message></cXML>`,
		Envelope{PayloadID: "m", Timestamp: ParseTimestamp(""), Header: &Header{}, Message: true, Kind: "PunchOutOrderMessage"}},
	{"empty message", `<cXML payloadID="m"><Header/><Message/></cXML>`,
		Envelope{PayloadID: "m", Timestamp: ParseTimestamp(""), Header: &Header{}, Message: true}},
	{"what comes after the request element's start tag is not read",
		`<cXML payloadID="p"><Header/><Request><OrderRequest>&bogus; <a></b> <![CDATA[`,
		Envelope{PayloadID: "p", Timestamp: ParseTimestamp(""), Header: &Header{}, Request: true, Kind: "OrderRequest"}},
}

func TestReadEnvelope(t *testing.T) {
	for _, tc := range envelopeCases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := ReadEnvelope([]byte(tc.doc), Limits{})
			require.NoError(t, err)
			assert.Equal(t, tc.doc, string(env.Text))
			env.Text = nil
			assert.Equal(t, tc.want, *env)
		})
	}

	t.Run("Text is the decoded document", func(t *testing.T) {
		doc := cxmlDoc(`<?xml version="1.0" encoding="UTF-16"?>`, `<ProfileRequest/>`)
		env, err := ReadEnvelope(utf16Bytes(string(doc), true, true), Limits{})
		require.NoError(t, err)
		assert.Equal(t, strings.Replace(string(doc), "UTF-16", "UTF-8", 1), string(env.Text))
	})

	t.Run("Envelope.Parse reads a text decoding made longer than the limit", func(t *testing.T) {
		body := latin1(string(cxmlDoc(`<?xml version="1.0" encoding="ISO-8859-1"?>`, `<ProfileRequest/><!--`+strings.Repeat("é", 550)+`-->`)))
		limits := Limits{MaxBytes: 1024}
		require.Less(t, len(body), 1024)
		env, err := ReadEnvelope(body, limits)
		require.NoError(t, err)
		require.Greater(t, len(env.Text), 1024)
		d, err := env.Parse(limits)
		require.NoError(t, err)
		assert.Equal(t, "ProfileRequest", d.Kind())
	})
}

// envelopeRefusals are documents ReadEnvelope refuses, with the code and a
// phrase of the detail; Parse refuses each with the same code.
var envelopeRefusals = []struct {
	name   string
	doc    []byte
	limits Limits
	code   int
	detail string
}{
	{"empty body", nil, Limits{}, StatusBadRequest, "the request body is empty"},
	{"over the size limit", cxmlDoc("", `<ProfileRequest/>`), Limits{MaxBytes: 100}, StatusTooLarge, "100 bytes"},
	{"unknown encoding", []byte(`<?xml version="1.0" encoding="ebcdic"?><cXML/>`), Limits{}, StatusNotAcceptable, "encoding ebcdic is not supported"},
	{"entity declaration", cxmlDoc(`<!DOCTYPE cXML [<!ENTITY x "y">]>`, `<ProfileRequest/>`), Limits{}, StatusNotAcceptable, "entity declarations"},
	{"no root element", []byte(`<?xml version="1.0"?><!-- nothing -->`), Limits{}, StatusNotAcceptable, "the document has no root element"},
	{"text before the root", []byte(`hello <cXML payloadID="p"/>`), Limits{}, StatusNotAcceptable, "text outside the root element"},
	{"mismatched end tag in the Header", []byte(`<cXML payloadID="p"><Header><From></To></Header>`), Limits{}, StatusNotAcceptable, "not well-formed"},
	{"cut off in the Header", cxmlDoc("", `<ProfileRequest/>`)[:150], Limits{}, StatusNotAcceptable, "cut off"},
	{"cut off in a tag", []byte(`<cXML payloadID="p"><Header><From domain="`), Limits{}, StatusNotAcceptable, "not well-formed"},
	{"bare ampersand in a secret", []byte(`<cXML payloadID="p"><Header><Sender><Credential domain="d"><SharedSecret>a&b</SharedSecret></Credential></Sender></Header><Request><X/></Request></cXML>`),
		Limits{}, StatusNotAcceptable, "an unescaped '&'"},
	{"deeper than the limit", []byte(`<cXML payloadID="p"><Header><From><Credential><Identity>i</Identity></Credential></From></Header><Request><X/></Request></cXML>`),
		Limits{MaxDepth: 4}, StatusNotAcceptable, "deeper than 4 levels"},
	{"XML 1.1", []byte(`<?xml version="1.1"?><cXML payloadID="p"/>`), Limits{}, StatusNotAcceptable, "not well-formed"},
	{"not cXML", []byte(`<html><body/></html>`), Limits{}, StatusBadRequest, "the root element is <html>, not <cXML>"},
	{"prefixed cXML", []byte(`<x:cXML payloadID="p"/>`), Limits{}, StatusBadRequest, "the root element is <x:cXML>, not <cXML>"},
	{"no payloadID", []byte(`<cXML payloadID="  "><Response><Status code="200"/></Response></cXML>`), Limits{}, StatusBadRequest, "no payloadID"},
	{"request without Header", []byte(`<cXML payloadID="p"><Request><ProfileRequest/></Request></cXML>`), Limits{}, StatusBadRequest, "the request has no Header"},
	{"message without Header", []byte(`<cXML payloadID="p"><Message><PunchOutOrderMessage/></Message></cXML>`), Limits{}, StatusBadRequest, "the message has no Header"},
	{"empty Request", []byte(`<cXML payloadID="p"><Header/><Request> <!-- --> </Request></cXML>`), Limits{}, StatusBadRequest, "found 0"},
	{"Response without Status", []byte(`<cXML payloadID="p"><Response/></cXML>`), Limits{}, StatusBadRequest, "the Response has no Status"},
	{"no body", []byte(`<cXML payloadID="p"><Header/></cXML>`), Limits{}, StatusBadRequest, "exactly one Request, Response or Message"},
	{"two Headers", headerDoc("", "<Header/>", ""), Limits{}, StatusBadRequest, "a cXML document carries one Header"},
}

func TestReadEnvelopeRefuses(t *testing.T) {
	for _, tc := range envelopeRefusals {
		t.Run(tc.name, func(t *testing.T) {
			env, err := ReadEnvelope(tc.doc, tc.limits)
			assert.Nil(t, env)
			var ce *Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.code, ce.Code, "detail: %s", ce.Detail)
			assert.Contains(t, ce.Detail, tc.detail)
			assert.NotContains(t, ce.Detail, "a&b", "never quotes the document")
			_, err = Parse(tc.doc, tc.limits)
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.code, ce.Code, "Parse's code; detail: %s", ce.Detail)
		})
	}
}

// allocated is the least of three runs' bytes allocated by f.
func allocated(f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestReadEnvelopeCostsItsHeader: a flood of 500,000 empty elements, 2 MB,
// costs ReadEnvelope what the envelope costs, wherever after the Header it
// is: it stops at the request element's start tag, or at the bound on the
// elements before it. Parse builds the whole tree.
func TestReadEnvelopeCostsItsHeader(t *testing.T) {
	flood := strings.Repeat("<a/>", 500_000)
	tests := []struct {
		name string
		doc  []byte
		code int
	}{
		{"in the request", cxmlDoc("", "<ProfileRequest>"+flood+"</ProfileRequest>"), 0},
		{"between the Header and the Request", headerDoc("", flood, ""), StatusBadRequest},
		{"in the Header", headerDoc(flood, "", ""), StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.LessOrEqual(t, len(tc.doc), DefaultMaxBytes)
			var err error
			n := allocated(func() { _, err = ReadEnvelope(tc.doc, Limits{}) })
			if tc.code == 0 {
				require.NoError(t, err)
			} else {
				var ce *Error
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tc.code, ce.Code)
			}
			t.Logf("ReadEnvelope allocated %d bytes for %d", n, len(tc.doc))
			assert.Less(t, n, uint64(len(tc.doc)/4), "ReadEnvelope allocates well under the document's size")
		})
	}

	t.Run("Parse", func(t *testing.T) {
		doc := tests[0].doc
		var parsed, read uint64
		parsed = allocated(func() { _, _ = Parse(doc, Limits{}) })
		read = allocated(func() { _, _ = ReadEnvelope(doc, Limits{}) })
		t.Logf("Parse allocated %d bytes, ReadEnvelope %d, for %d", parsed, read, len(doc))
		assert.Greater(t, parsed, 100*read, "Parse builds the tree")
	})
}

// FuzzReadEnvelope holds ReadEnvelope to Parse on any input (see
// checkEnvelope).
func FuzzReadEnvelope(f *testing.F) {
	for _, name := range sampleNames(f) {
		f.Add(readSample(f, name))
	}
	for _, fx := range fixtures.All() {
		f.Add(fixtures.Read(fx))
	}
	for _, data := range envelopeSeeds() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		watchdog := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("ReadEnvelope and Parse took over 10s on %q", data))
		})
		defer watchdog.Stop()
		checkEnvelope(t, data)
	})
}
