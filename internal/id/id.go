// Package id makes the gateway's identifiers: a short type prefix and a
// UUIDv7 (time-ordered, 74 random bits), so IDs are unique by
// construction, sort by creation, and say what they name ("conn_…").
package id

import (
	"encoding/hex"

	"github.com/google/uuid"
)

// New returns a fresh ID with the given prefix: the prefix, "_" and the
// UUID's 32 hex digits.
func New(prefix string) string {
	u := uuid.Must(uuid.NewV7())
	b := make([]byte, len(prefix)+1+32)
	copy(b, prefix)
	b[len(prefix)] = '_'
	hex.Encode(b[len(prefix)+1:], u[:])
	return string(b)
}
