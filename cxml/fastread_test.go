package cxml

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/fixtures"
)

// noFastRead leaves every document to etree's reader.
func noFastRead([]byte, int) (*etree.Document, bool) { return nil, false }

// etreeRead is the tree Parse builds without fastRead.
func etreeRead(data []byte, maxDepth int) (*etree.Document, error) {
	return readTree(data, Limits{MaxDepth: maxDepth}, noFastRead)
}

// sameTree reports the first difference between two trees, or "" if they
// are the same token for token: kinds, names, attributes in order, text
// and its flags, and every parent pointer and index.
func sameTree(want, got *etree.Element) string {
	return sameElement("/", want, got)
}

func sameElement(path string, want, got *etree.Element) string {
	if want.Space != got.Space || want.Tag != got.Tag {
		return fmt.Sprintf("%s: element %q:%q, want %q:%q", path, got.Space, got.Tag, want.Space, want.Tag)
	}
	if (want.Attr == nil) != (got.Attr == nil) || len(want.Attr) != len(got.Attr) {
		return fmt.Sprintf("%s: attributes %#v, want %#v", path, got.Attr, want.Attr)
	}
	for i, w := range want.Attr {
		g := got.Attr[i]
		if w.Space != g.Space || w.Key != g.Key || w.Value != g.Value {
			return fmt.Sprintf("%s: attribute %d is %q:%q=%q, want %q:%q=%q", path, i, g.Space, g.Key, g.Value, w.Space, w.Key, w.Value)
		}
		if w.Element() != want || g.Element() != got {
			return fmt.Sprintf("%s: attribute %d does not point at its element", path, i)
		}
	}
	if (want.Child == nil) != (got.Child == nil) || len(want.Child) != len(got.Child) {
		return fmt.Sprintf("%s: %d children (nil %t), want %d (nil %t)", path, len(got.Child), got.Child == nil, len(want.Child), want.Child == nil)
	}
	for i, wt := range want.Child {
		gt := got.Child[i]
		at := fmt.Sprintf("%s%d", path, i)
		if wt.Parent() != want || gt.Parent() != got || wt.Index() != i || gt.Index() != i {
			return fmt.Sprintf("%s: parent or index wrong (index %d, want %d)", at, gt.Index(), wt.Index())
		}
		if fmt.Sprintf("%T", wt) != fmt.Sprintf("%T", gt) {
			return fmt.Sprintf("%s: %T, want %T", at, gt, wt)
		}
		var diff string
		switch w := wt.(type) {
		case *etree.Element:
			diff = sameElement(at+"/", w, gt.(*etree.Element))
		case *etree.CharData:
			g := gt.(*etree.CharData)
			if w.Data != g.Data || w.IsWhitespace() != g.IsWhitespace() || w.IsCData() != g.IsCData() {
				diff = fmt.Sprintf("%s: text %q (whitespace %t, CDATA %t), want %q (%t, %t)", at, g.Data, g.IsWhitespace(), g.IsCData(), w.Data, w.IsWhitespace(), w.IsCData())
			}
		case *etree.Comment:
			if g := gt.(*etree.Comment); w.Data != g.Data {
				diff = fmt.Sprintf("%s: comment %q, want %q", at, g.Data, w.Data)
			}
		case *etree.ProcInst:
			if g := gt.(*etree.ProcInst); w.Target != g.Target || w.Inst != g.Inst {
				diff = fmt.Sprintf("%s: PI %q %q, want %q %q", at, g.Target, g.Inst, w.Target, w.Inst)
			}
		case *etree.Directive:
			if g := gt.(*etree.Directive); w.Data != g.Data {
				diff = fmt.Sprintf("%s: directive %q, want %q", at, g.Data, w.Data)
			}
		default:
			diff = fmt.Sprintf("%s: unexpected token %T", at, wt)
		}
		if diff != "" {
			return diff
		}
	}
	return ""
}

// checkFastRead holds fastRead to etree's reader on data: whatever it
// reads, etree reads too, into the same tree.
func checkFastRead(t *testing.T, data []byte, maxDepth int) (fast bool) {
	t.Helper()
	got, ok := fastRead(data, maxDepth)
	if !ok {
		return false
	}
	want, err := etreeRead(data, maxDepth)
	if err != nil {
		t.Fatalf("fastRead read what etree refuses (%v):\n%q", err, data)
	}
	if diff := sameTree(&want.Element, &got.Element); diff != "" {
		t.Fatalf("fastRead's tree differs from etree's: %s\n%q", diff, data)
	}
	w, err := want.WriteToString()
	require.NoError(t, err)
	g, err := got.WriteToString()
	require.NoError(t, err)
	if w != g {
		t.Fatalf("fastRead's tree writes\n%q\netree's\n%q", g, w)
	}
	return true
}

// fixturesFallingBack names the fixtures fastRead leaves to etree, and why.
var fixturesFallingBack = map[string]string{
	"ariba_punchoutsetuprequest_truncated":       "cut off",
	"coupa_profilerequest_ampersand_in_secret":   "a bare &",
	"coupa_punchoutsetuprequest_bare_ampersand":  "a bare &",
	"generic_profilerequest_billion_laughs":      "entity declarations",
	"generic_profilerequest_iso_8859_1":          "ISO-8859-1",
	"generic_profilerequest_xxe_external_entity": "an entity declaration",
}

// fastReadCases are hand-written documents, each marked with whether
// fastRead reads it or leaves it to etree.
var fastReadCases = []struct {
	name, doc string
	fast      bool
}{
	{"empty element", `<a/>`, true},
	{"empty element with space", "<a \t\r\n/>", true},
	{"predefined entities", `<a b="&lt;&gt;&amp;&apos;&quot;">&lt;&gt;&amp;&apos;&quot;</a>`, true},
	{"character references", `<a b="&#10;&#x9;&#13;">&#10;&#x1F600;&#65;&#x41;&#0065;&#xd;</a>`, true},
	{"surrogate reference reads as U+FFFD", `<a>&#xD800;</a>`, true},
	{"CDATA with brackets", `<a><![CDATA[x]]y]>z] <b>&amp;</b>]]]></a>`, true},
	{"CDATA between text", `<a>x<![CDATA[]]>y<![CDATA[ ]]></a>`, true},
	{"CRLF and lone CR", "<a b='1\r\n2\r3\r\r\n'>x\r\ny\rz\r</a>\r\n", true},
	{"CR before a reference", "<a>\r&amp;\n\r&#10;</a>", true},
	{"tabs and newlines in attributes", "<a b=\"1\t2\n3\" c = '4' >x</a>", true},
	{"attributes without space between", `<a b="1"c='2'/>`, true},
	{"different prefixes, same local name", `<a x:y="1" z:y="2" y="3" xmlns:y="4"/>`, true},
	{"namespace prefixes", `<foo:bar xmlns:foo="urn:x" xmlns="urn:y" xml:lang="en"><foo:baz foo:q="1"/><x.y-z_1/></foo:bar>`, true},
	{"comments", `<!----><!-- a - b --><a><!--x--></a><!-- <a> -->`, true},
	{"processing instructions", `<?pi?><?pi x ?><?pi  a="b"?><a><?q ??></a>`, true},
	{"xml declaration", `<?xml version="1.0"?><a/>`, true},
	{"UTF-8 declared", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><a/>`, true},
	{"utf-8 declared in lower case", `<?xml version='1.0' encoding='utf-8'?><a/>`, true},
	{"US-ASCII declared", `<?xml version="1.0" encoding="US-ASCII"?><a/>`, true},
	{"byte order mark", "\ufeff<?xml version=\"1.0\"?>\n<a/>", true},
	{"DOCTYPE", `<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd"><cXML/>`, true},
	{"DOCTYPE with empty subset", `<!DOCTYPE cXML SYSTEM 'http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd' [ ]><cXML/>`, true},
	{"DOCTYPE with > in quotes", `<!DOCTYPE cXML SYSTEM "x>y"><cXML/>`, true},
	{"whitespace between elements", "<a>\n  <b> </b>\n\t<c>\n</c>  </a>\n", true},
	{"text outside the root", `x<a/>y`, true},
	{"second root", `<a/><b/>`, true},
	{"non-ASCII text", "<a b=\"Zo\u00eb\">M\u00fcller \u20ac \U0001F600</a>", true},
	{"end tag with space", "<a></a \n>", true},
	{"deep to the limit", strings.Repeat("<a>", DefaultMaxDepth) + strings.Repeat("</a>", DefaultMaxDepth), true},
	{"empty document", ``, true},

	{"ISO-8859-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe9</a>", false},
	{"ISO-8859-1 after the root", `<a/><?xml version="1.0" encoding="ISO-8859-1"?>`, false},
	{"XML 1.1", `<?xml version="1.1"?><a/>`, false},
	{"NUL reference", `<a>&#0;</a>`, false},
	{"reference to U+FFFE", `<a>&#xFFFE;</a>`, false},
	{"reference beyond Unicode", `<a>&#x110000;</a>`, false},
	{"reference without digits", `<a>&#;</a>`, false},
	{"hex reference with X", `<a>&#X41;</a>`, false},
	{"reference without semicolon", `<a>&#65</a>`, false},
	{"undefined entity", `<a>&nbsp;</a>`, false},
	{"entity without semicolon", `<a b="&amp"/>`, false},
	{"bare ampersand", `<a>Smith & Sons</a>`, false},
	{"]]> in text", `<a>x]]>y</a>`, false},
	{"< in an attribute", `<a b="<"/>`, false},
	{"unquoted attribute", `<a b=1/>`, false},
	{"attribute without value", `<a b/>`, false},
	{"-- in a comment", `<a><!-- a -- b --></a>`, false},
	{"comment ending --->", `<a><!-- a ---></a>`, false},
	{"unterminated comment", `<a><!-- a`, false},
	{"internal subset", `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, false},
	{"invalid UTF-8", "<a>\xff</a>", false},
	{"control character", "<a>\x01</a>", false},
	{"control character in an attribute", "<a b='\x0c'/>", false},
	{"non-ASCII name", "<\u00e9/>", false},
	{"two colons", `<a:b:c/>`, false},
	{"leading colon", `<:a/>`, false},
	{"name starting with a digit", `<1a/>`, false},
	{"unclosed", `<a><b></b>`, false},
	{"mismatched", `<a></b>`, false},
	{"mismatched prefix", `<x:a></y:a>`, false},
	{"end tag first", `</a>`, false},
	{"cut off in a tag", `<a b="1"`, false},
	{"unterminated CDATA", `<a><![CDATA[x</a>`, false},
	{"lower-case cdata", `<a><![cdata[x]]></a>`, false},
	{"space before the name", `< a/>`, false},
	{"/ not followed by >", `<a / >`, false},
	{"one too deep", strings.Repeat("<a>", DefaultMaxDepth+1) + strings.Repeat("</a>", DefaultMaxDepth+1), false},
	{"many attributes", "<a" + manyAttrs(maxFastAttrs+1) + "/>", false},
	// etree keeps one of two attributes of the same name; readTree refuses
	// the document, and fastRead leaves it to it.
	{"repeated attribute", `<a x="1" y="2" x="3" y="4" z="5"/>`, false},
	{"repeated prefixed attribute", `<a p:x="1" p:x="1"/>`, false},
	{"repeated xml:lang", `<a><b xml:lang="en" xml:lang="de"/></a>`, false},
	{"repeated attribute last of the most", "<a" + manyAttrs(maxFastAttrs-1) + " a0='x'/>", false},
}

func manyAttrs(n int) string {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, " a%d='%d'", i, i)
	}
	return sb.String()
}

// TestFastReadTakes pins which documents fastRead reads and which it leaves
// to etree, so that a fast path that quietly always falls back fails, and
// holds every tree it builds to etree's.
func TestFastReadTakes(t *testing.T) {
	for _, name := range sampleNames(t) {
		t.Run(name, func(t *testing.T) {
			assert.True(t, checkFastRead(t, readSample(t, name), DefaultMaxDepth), "every sample takes the fast path")
		})
	}
	for _, f := range fixtures.All() {
		t.Run(f.Name, func(t *testing.T) {
			why, fallsBack := fixturesFallingBack[f.Name]
			assert.Equal(t, !fallsBack, checkFastRead(t, fixtures.Read(f), DefaultMaxDepth), "falls back for %s", why)
		})
	}
	for _, tc := range fastReadCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.fast, checkFastRead(t, []byte(tc.doc), DefaultMaxDepth))
		})
	}
}

// TestParseSameWithoutFastRead holds Parse to what it answered before
// fastRead: the same model, tree and read settings, or the same error.
func TestParseSameWithoutFastRead(t *testing.T) {
	docs := map[string][]byte{}
	for _, name := range sampleNames(t) {
		docs[name] = readSample(t, name)
	}
	for _, f := range fixtures.All() {
		docs[f.Name] = fixtures.Read(f)
	}
	for i, s := range parseSeeds {
		docs[fmt.Sprint("seed ", i)] = []byte(s)
	}
	for name, data := range docs {
		t.Run(name, func(t *testing.T) {
			want, wantErr := parse(data, Limits{}, noFastRead)
			got, err := Parse(data, Limits{})
			if wantErr != nil {
				require.Error(t, err)
				assert.Equal(t, wantErr.Error(), err.Error())
				return
			}
			require.NoError(t, err)
			// Functions are never deeply equal: compare them apart.
			assert.NotNil(t, got.Source.ReadSettings.CharsetReader)
			assert.NotNil(t, want.Source.ReadSettings.CharsetReader)
			got.Source.ReadSettings.CharsetReader, want.Source.ReadSettings.CharsetReader = nil, nil
			assert.Equal(t, want, got)
		})
	}
}
