package cxml

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in    string
		want  time.Time // in UTC
		zoned bool
		valid bool
	}{
		{"2024-09-21T16:34:09-04:00", time.Date(2024, 9, 21, 20, 34, 9, 0, time.UTC), true, true},         // Coupa
		{"2010-12-22T19:03:37Z", time.Date(2010, 12, 22, 19, 3, 37, 0, time.UTC), true, true},             // Coupa invoice
		{"2018-01-01T00:00:00-0500", time.Date(2018, 1, 1, 5, 0, 0, 0, time.UTC), true, true},             // offset without colon
		{"2016-04-20T04:34:19", time.Date(2016, 4, 20, 4, 34, 19, 0, time.UTC), false, true},              // BirchStreet, no zone
		{"2023-04-20T19:23:18", time.Date(2023, 4, 20, 19, 23, 18, 0, time.UTC), false, true},             // Oracle Supplier Network
		{"2020-09-25 15:30:43", time.Date(2020, 9, 25, 15, 30, 43, 0, time.UTC), false, true},             // space, no zone
		{"3/30/2015 11:56:16 AM", time.Date(2015, 3, 30, 11, 56, 16, 0, time.UTC), false, true},           // US locale
		{"3/30/2015 1:56:16 PM", time.Date(2015, 3, 30, 13, 56, 16, 0, time.UTC), false, true},            // US locale, afternoon
		{"Mon May 19 18:29:48 +0000 2008", time.Date(2008, 5, 19, 18, 29, 48, 0, time.UTC), true, true},   // Coupa 2008
		{"2024-09-21T16:34:09.123-04:00", time.Date(2024, 9, 21, 20, 34, 9, 123e6, time.UTC), true, true}, // milliseconds
		{"  2024-09-21T16:34:09+02:00\n", time.Date(2024, 9, 21, 14, 34, 9, 0, time.UTC), true, true},     // white space around
		{"2024-09-21", time.Date(2024, 9, 21, 0, 0, 0, 0, time.UTC), false, true},                         // date only
		{"--T+00:00", time.Time{}, false, false},                                                          // Coupa doc POOM: read, not refused
		{"invoice_date", time.Time{}, false, false},                                                       // Coupa placeholder
		{"", time.Time{}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			ts := ParseTimestamp(tc.in)
			assert.Equal(t, tc.valid, ts.Valid)
			assert.Equal(t, tc.zoned, ts.Zoned)
			assert.Equal(t, tc.in, ts.Raw, "the raw text is kept")
			if tc.valid {
				assert.True(t, tc.want.Equal(ts.Time), "got %s", ts.Time)
			} else {
				assert.True(t, ts.Time.IsZero())
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 9, 21, 16, 34, 9, 0, time.FixedZone("", -4*3600)), "2024-09-21T16:34:09-04:00"},
		{time.Date(2024, 9, 21, 16, 34, 9, 999, time.UTC), "2024-09-21T16:34:09Z"},
		{time.Date(2024, 3, 1, 9, 0, 0, 0, time.FixedZone("IST", 5*3600+1800)), "2024-03-01T09:00:00+05:30"},
	}
	for _, tc := range tests {
		got := FormatTime(tc.in)
		assert.Equal(t, tc.want, got)
		back := ParseTimestamp(got)
		assert.True(t, back.Valid && back.Zoned, "what we write reads back zoned")
	}
}
