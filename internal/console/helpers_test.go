package console_test

import (
	"testing"

	"github.com/cxmlgate/punchout/internal/dbtest"
)

func sqliteDSN(t testing.TB) string { return dbtest.SQLiteDSN(t) }
