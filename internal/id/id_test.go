package id

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestNew(t *testing.T) {
	for _, prefix := range []string{"agr", "xin", "poli", "sess"} {
		t.Run(prefix, func(t *testing.T) {
			re := regexp.MustCompile(`^` + prefix + `_[0-9a-f]{32}$`)
			seen := map[string]bool{}
			prev := ""
			for range 1000 {
				v := New(prefix)
				if !re.MatchString(v) {
					t.Fatalf("%q is not %s", v, re)
				}
				u, err := uuid.Parse(strings.TrimPrefix(v, prefix+"_"))
				if err != nil || u.Version() != 7 {
					t.Fatalf("%q: not a UUIDv7 (%v)", v, err)
				}
				if seen[v] {
					t.Fatalf("%q made twice", v)
				}
				seen[v] = true
				// UUIDv7 sorts by millisecond; within one, order is random.
				if prev != "" && v[:len(prefix)+13] < prev[:len(prefix)+13] {
					t.Fatalf("%q sorts before the earlier %q", v, prev)
				}
				prev = v
			}
		})
	}
}
