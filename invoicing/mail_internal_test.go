package invoicing

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/mail"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from what the mail templates render")

// TestNoticeMailGolden renders the purchase order notices for
// representative data and compares subject and body with
// testdata/mail_*.golden, which hold the texts byte for byte.
func TestNoticeMailGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		t      *mail.Template
		data   any
	}{
		{"mail_balance", balanceTemplate,
			balanceNotice{Contact: "Pat Payables", PONumber: "PO-FUNDS", Balance: "2.655 BHD", Total: "15.000 BHD", Invoice: "12.345 BHD"}},
		{"mail_balance_no_name", balanceTemplate, balanceNotice{PONumber: "PO-JPY", Balance: "3000 JPY", Total: "5000 JPY", Invoice: "2000 JPY"}},
		{"mail_expiry", expiryTemplate, expiryNotice{Contact: "Pat Payables", PONumber: "PO-FUNDS", Expires: "2026-11-30"}},
		{"mail_expiry_no_name", expiryTemplate, expiryNotice{PONumber: "PO-100%", Expires: "2027-02-28"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			subject, body, err := tc.t.Render(tc.data)
			require.NoError(t, err)
			compareGolden(t, tc.golden, "Subject: "+subject+"\n\n"+body)
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
