package invoicing

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from what the mail templates render")

// TestNoticeMailGolden renders the purchase order notices for
// representative data and compares subject and body with
// testdata/mail_*.golden, which hold the texts byte for byte.
func TestNoticeMailGolden(t *testing.T) {
	for _, tc := range []struct {
		golden, contact string
		notice          func() (subject, body string)
	}{
		{"mail_balance", "Pat Payables", func() (string, string) {
			return balanceNotice("PO-FUNDS", "2.655 BHD", "15.000 BHD", "12.345 BHD")
		}},
		{"mail_balance_no_name", "", func() (string, string) { return balanceNotice("PO-JPY", "3000 JPY", "5000 JPY", "2000 JPY") }},
		{"mail_expiry", "Pat Payables", func() (string, string) { return expiryNotice("PO-FUNDS", "2026-11-30") }},
		{"mail_expiry_no_name", "", func() (string, string) { return expiryNotice("PO-100%", "2027-02-28") }},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			subject, body := tc.notice()
			compareGolden(t, tc.golden, "Subject: "+subject+"\n\n"+noticeText(tc.contact, body))
		})
	}
}

// compareGolden compares got with testdata/<name>.golden, or rewrites the
// file with -update.
func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run Golden -update to create it")
	assert.Equal(t, string(want), got)
}
