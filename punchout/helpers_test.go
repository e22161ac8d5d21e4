package punchout_test

import (
	"encoding/json"
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
