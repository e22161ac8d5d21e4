// Package id makes the gateway's identifiers: a short type prefix and a
// UUIDv7 (time-ordered, 74 random bits), so IDs are unique by
// construction, sort by creation, and say what they name ("conn_…").
package id

import (
	"strings"

	"github.com/google/uuid"
)

// New returns a fresh ID with the given prefix.
func New(prefix string) string {
	u := uuid.Must(uuid.NewV7())
	return prefix + "_" + strings.ReplaceAll(u.String(), "-", "")
}
