package punchout_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/errs"
)

// TestAuthenticationWorkIsTheSame checks that a prober cannot tell a known
// From/To/Sender triple from an unknown one by the work its wrong secret
// costs: each does one digest per credential combination, and so does the
// right secret. (The digests are counted, not timed.)
func TestAuthenticationWorkIsTheSame(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		ctx := context.Background()
		header := func(from, secret string) *cxml.Header {
			return &cxml.Header{
				From:   cxml.Party{Credentials: []cxml.Credential{{Domain: "NetworkID", Identity: from}}},
				To:     cxml.Party{Credentials: []cxml.Credential{{Domain: "DUNS", Identity: "081254817"}}},
				Sender: cxml.Sender{Credentials: []cxml.Credential{{Domain: "NetworkID", Identity: from, SharedSecret: secret}}},
			}
		}
		tests := []struct {
			name   string
			h      *cxml.Header
			wantOK bool
		}{
			{"known triple, right secret", header("DemoCorpCoupa", "coupa-demo-secret"), true},
			{"known triple, wrong secret", header("DemoCorpCoupa", "wrong"), false},
			{"unknown triple", header("SomeoneElse", "wrong"), false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := s.App.Keys.Digests()
				_, err := s.App.Connections.Authenticate(ctx, tc.h)
				if tc.wantOK {
					require.NoError(t, err)
				} else {
					assert.True(t, errs.Is(err, errs.Unauthorized), "%v", err)
				}
				assert.EqualValues(t, 1, s.App.Keys.Digests()-before, "digests computed")
			})
		}
	})
}
