package cxml

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/beevik/etree"
)

// benchSamples names the sample each document kind is measured on. The
// kinds are those scripts/benchratio holds to targets.
var benchSamples = []struct{ kind, file string }{
	{"ProfileRequest", "generic_profilerequest_1.xml"},
	{"PunchOutSetupRequest", "coupa_punchoutsetuprequest_2.xml"},
	{"PunchOutOrderMessage", "generic_punchoutordermessage_1.xml"},
	{"OrderRequest", "coupa_orderrequest_2.xml"},
	{"ConfirmationRequest", "officedepot_confirmationrequest_1.xml"},
	{"InvoiceDetailRequest", "coupa_invoicedetailrequest_5.xml"},
}

// BenchmarkParse measures Parse (ours): hostile-markup checks, the tree
// and the model; etree is its baseline: a bare etree parse of the same
// bytes, the least any tree-based parse costs. Each kind runs ours, then
// etree, so that one run of each is one pair measured side by side, and
// `make bench` runs the package once per round (scripts/benchratio pairs
// the samples of a round): drift on the machine hits both alike.
func BenchmarkParse(b *testing.B) {
	for _, s := range benchSamples {
		data := readSample(b, s.file)
		b.Run(s.kind, func(b *testing.B) {
			b.Run("ours", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					d, err := Parse(data, Limits{})
					if err != nil {
						b.Fatal(err)
					}
					if d.Kind() != s.kind {
						b.Fatalf("parsed a %s", d.Kind())
					}
				}
			})
			b.Run("etree", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if err := etree.NewDocument().ReadFromBytes(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkReadEnvelope measures ReadEnvelope, what the endpoint spends on
// a document before it authenticates it, on the samples Parse is measured
// on.
func BenchmarkReadEnvelope(b *testing.B) {
	for _, s := range benchSamples {
		data := readSample(b, s.file)
		b.Run(s.kind, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				env, err := ReadEnvelope(data, Limits{})
				if err != nil {
					b.Fatal(err)
				}
				if env.Kind != s.kind {
					b.Fatalf("read a %s", env.Kind)
				}
			}
		})
	}
}

// orderRequest5Lines is coupa_orderrequest_2.xml with five lines, about
// 8 KB: the order the gateway takes most often.
func orderRequest5Lines(b *testing.B) []byte {
	data := readSample(b, "coupa_orderrequest_2.xml")
	start := bytes.Index(data, []byte("      <ItemOut "))
	firstEnd := bytes.Index(data, []byte("</ItemOut>\n")) + len("</ItemOut>\n")
	lastEnd := bytes.LastIndex(data, []byte("</ItemOut>\n")) + len("</ItemOut>\n")
	out := bytes.Clone(data[:start])
	for i := 1; i <= 5; i++ {
		out = append(out, bytes.Replace(data[start:firstEnd], []byte(`lineNumber="1"`), fmt.Appendf(nil, `lineNumber="%d"`, i), 1)...)
	}
	out = append(out, data[lastEnd:]...)
	d, err := Parse(out, Limits{})
	if err != nil || len(requestBody[*OrderRequest](b, d).Items) != 5 {
		b.Fatalf("the five-line order does not parse as one: %v", err)
	}
	return out
}

// BenchmarkParseOrderRequest5Lines measures Parse and its tree on a
// five-line order, each with fastRead and with etree's reader alone, and
// ReadEnvelope on it.
func BenchmarkParseOrderRequest5Lines(b *testing.B) {
	data := orderRequest5Lines(b)
	for _, bm := range []struct {
		name string
		run  func() error
	}{
		{"Parse", func() error { _, err := Parse(data, Limits{}); return err }},
		{"ParseEtreeOnly", func() error { _, err := parse(data, Limits{}, noFastRead); return err }},
		{"Tree", func() error {
			if _, ok := fastRead(data, DefaultMaxDepth); !ok {
				return fmt.Errorf("fastRead fell back")
			}
			return nil
		}},
		{"TreeEtreeOnly", func() error { _, err := etreeRead(data, DefaultMaxDepth); return err }},
		{"ReadEnvelope", func() error { _, err := ReadEnvelope(data, Limits{}); return err }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := bm.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMarshal measures Marshal of a parsed sample (ours): building
// the tree in DTD order, indenting and writing it; etree is its baseline:
// etree writing the parsed tree as it is. Each kind runs ours, then etree,
// as BenchmarkParse does.
func BenchmarkMarshal(b *testing.B) {
	for _, s := range benchSamples {
		d, err := Parse(readSample(b, s.file), Limits{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.kind, func(b *testing.B) {
			b.Run("ours", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Marshal(d); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("etree", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := d.Source.WriteTo(io.Discard); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
