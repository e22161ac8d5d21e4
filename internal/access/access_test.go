package access

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPasswordHashes(t *testing.T) {
	h := HashPassword("correct horse battery")
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	assert.NotEqual(t, h, HashPassword("correct horse battery"), "a new salt each time")
	for _, tc := range []struct {
		name, hash, pw string
		want           bool
	}{
		{"right", h, "correct horse battery", true},
		{"wrong", h, "correct horse batterY", false},
		{"empty password", h, "", false},
		{"no hash", "", "correct horse battery", false},
		{"not argon2id", "$2a$10$abcdefghijklmnopqrstuv", "x", false},
		{"broken parameters", "$argon2id$v=19$m=x$AAAA$AAAA", "x", false},
		{"broken salt", "$argon2id$v=19$m=19456,t=2,p=1$!!$AAAA", "x", false},
		{"no passes", "$argon2id$v=19$m=19456,t=0,p=1$c2FsdA$aGFzaA", "x", false},
		{"no lanes", "$argon2id$v=19$m=19456,t=2,p=0$c2FsdA$aGFzaA", "x", false},
		{"too much memory", "$argon2id$v=19$m=4294967295,t=2,p=1$c2FsdA$aGFzaA", "x", false},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, CheckPassword(tc.hash, tc.pw)) })
	}
}

// FuzzCheckPassword: a stored hash is read back by a small parser; no
// input makes it panic, and only the right password matches.
func FuzzCheckPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", "pw")
	f.Add("$argon2id$v=19$m=1,t=1,p=1$$", "")
	f.Add("$argon2id$v=19$m=1,t=0,p=1$$AA", "") // found by the fuzzer: argon2 panicked
	f.Fuzz(func(t *testing.T, hash, pw string) {
		// Bound the work a fuzzed hash can ask for.
		if strings.Contains(hash, "m=") && !strings.Contains(hash, "m=1,") {
			return
		}
		CheckPassword(hash, pw)
	})
}

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		have, need Role
		want       bool
	}{
		{Viewer, Viewer, true}, {Viewer, Billing, false}, {Billing, Viewer, true}, {Admin, Billing, true},
		{Admin, Operator, false}, {Operator, Admin, true}, {Role("boss"), Viewer, false}, {Operator, Role("boss"), false},
	} {
		assert.Equal(t, tc.want, tc.have.AtLeast(tc.need), "%s at least %s", tc.have, tc.need)
	}
}

func TestDiffMasksSecrets(t *testing.T) {
	type conn struct {
		Name         string `json:"name"`
		SharedSecret string `json:"shared_secret"`
		EInvoice     struct {
			SharedSecret string `json:"shared_secret"`
		} `json:"einvoice"`
	}
	before, after := conn{Name: "a", SharedSecret: "s1"}, conn{Name: "b", SharedSecret: "s2"}
	after.EInvoice.SharedSecret = "inv"
	d := Diff(before, after)
	assert.Equal(t, Change{Before: "a", After: "b"}, d["name"])
	assert.Equal(t, SecretChanged, d["shared_secret"])
	assert.NotContains(t, d["einvoice"].After, "inv")
	assert.Empty(t, Diff(before, before))
}
