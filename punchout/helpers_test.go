package punchout_test

import (
	"encoding/json"

	"github.com/shopspring/decimal"

	"testing"

	"github.com/cxmlgate/punchout/internal/dbtest"
)

func dbtestSQLite(t *testing.T) string { return dbtest.SQLiteDSN(t) }

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
