package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's Password Storage Cheat Sheet's first
// configuration (19 MiB, two passes, one lane), about 0.1 s a hash on
// a small server: slow for a guesser, quick enough for a sign-in.
// A stored hash carries its own parameters, so they can be raised later
// without breaking the hashes made before.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns a password's argon2id hash in the PHC string
// format ($argon2id$v=19$m=...,t=...,p=...$salt$hash), with a new random
// salt.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand does not fail on supported systems.
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// dummyHash is checked against when there is no user, so that an unknown
// email takes as long as a wrong password. It is made at its first use.
var dummyHash = sync.OnceValue(func() string { return HashPassword("no user has this password") })

// CheckPassword reports whether pw matches hash (made by HashPassword).
// An empty hash (no password set) matches nothing, in the same time.
func CheckPassword(hash, pw string) bool {
	if hash == "" {
		CheckPassword(dummyHash(), pw)
		return false
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	// argon2 panics below one pass or one lane; and a hash that asks for
	// more than ours ever do (at most a GiB, ten passes) is not ours.
	if t < 1 || t > 10 || p < 1 || m < 8*uint32(p) || m > 1<<20 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
