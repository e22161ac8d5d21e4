package cxml

import (
	"strings"
	"time"
)

// Timestamp is a cXML datetime as read from a document. The DTD says the
// zone is required; buyers leave it out, write it without a colon, or use a
// US locale. ParseTimestamp reads them all; a time without a zone is taken
// as UTC and Zoned says so.
type Timestamp struct {
	Time  time.Time
	Raw   string
	Zoned bool
	Valid bool
}

// layouts lists the forms seen in real documents, most common first.
// Each entry says whether the layout carries a zone.
var layouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339Nano, true},                     // 2024-09-21T16:34:09-04:00, 2010-12-22T19:03:37Z
	{"2006-01-02T15:04:05.999999999-0700", true}, // 2018-01-01T00:00:00-0500
	{"2006-01-02T15:04:05.999999999", false},     // 2016-04-20T04:34:19 (BirchStreet, Oracle)
	{"2006-01-02 15:04:05.999999999Z07:00", true},
	{"2006-01-02 15:04:05.999999999-0700", true},
	{"2006-01-02 15:04:05.999999999", false}, // 2020-09-25 15:30:43
	{time.RubyDate, true},                    // Mon May 19 18:29:48 +0000 2008 (Coupa 2008)
	{time.UnixDate, true},
	{time.RFC1123Z, true},
	{time.RFC1123, true},
	{"Mon, 2 Jan 2006 15:04:05 -0700", true},
	{time.RFC822Z, true},
	{time.RFC822, true},
	{"1/2/2006 3:04:05 PM", false}, // 3/30/2015 11:56:16 AM (Ariba-era US locale)
	{"1/2/2006 15:04:05", false},
	{"2006-01-02", false},
}

// ParseTimestamp reads a cXML datetime leniently. It never fails: a value
// no layout accepts comes back with Valid false and its Raw text, so that a
// document is never refused only for the form of its timestamp.
func ParseTimestamp(s string) Timestamp {
	raw := s
	s = strings.TrimSpace(s)
	for _, l := range layouts {
		t, err := time.Parse(l.layout, s)
		if err == nil {
			return Timestamp{Time: t, Raw: raw, Zoned: l.zoned, Valid: true}
		}
	}
	return Timestamp{Raw: raw}
}

// FormatTime writes t the one way the gateway writes times: RFC 3339 with
// an explicit offset.
func FormatTime(t time.Time) string {
	return t.Format(time.RFC3339)
}
