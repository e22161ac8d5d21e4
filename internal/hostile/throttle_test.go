package hostile

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
)

// TestFailedAuthenticationsAreThrottled plays an attacker at 127.0.0.2
// guessing the demo Coupa connection's secret, and the real buyer at
// 127.0.0.3 sending the right one. After its burst the attacker is
// answered 429 without its documents being read; the buyer, who claims
// the same identity, is never refused. A limit per claimed identity
// would have locked the buyer out.
func TestFailedAuthenticationsAreThrottled(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		attacker, buyer := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")
		codes := map[int]int{}
		for i := range 30 {
			st, h := postCXML(t, attacker, s.URL, coupaDoc(fmt.Sprintf("guess-%d@hostile", i), fmt.Sprintf("guess-%d", i), "<ProfileRequest/>"))
			codes[st.Code]++
			if st.Code == 429 {
				assert.NotEmpty(t, h.Get("Retry-After"))
				assert.Contains(t, st.Detail, "wait")
			}
			if i%5 == 0 {
				st, _ := postCXML(t, buyer, s.URL, coupaDoc(fmt.Sprintf("buyer-%d@hostile", i), "coupa-demo-secret", "<ProfileRequest/>"))
				assert.Equal(t, 200, st.Code, "the buyer's right secret from its own address")
			}
		}
		assert.Equal(t, map[int]int{401: 10, 429: 20}, codes)
		st, _ := postCXML(t, attacker, s.URL, coupaDoc("guess-right@hostile", "coupa-demo-secret", "<ProfileRequest/>"))
		assert.Equal(t, 429, st.Code, "a blocked source is refused before its document is read")

		// The admin API counts wrong bearer tokens the same way, against
		// the same address.
		adminAttacker := clientFrom(t, "127.0.0.4")
		adminCodes := map[int]int{}
		for range 15 {
			adminCodes[apiStatus(t, adminAttacker, s.URL, "wrong-token")]++
		}
		assert.Equal(t, map[int]int{401: 10, 429: 5}, adminCodes)
		assert.Equal(t, http.StatusOK, apiStatus(t, clientFrom(t, "127.0.0.5"), s.URL, "test-admin-token"))
		assert.Equal(t, http.StatusTooManyRequests, apiStatus(t, adminAttacker, s.URL, "test-admin-token"))
		// The 429s were not logged: a blocked flood costs no storage.
		var n int
		require.NoError(t, s.App.DB.R.Get(&n, `SELECT COUNT(*) FROM exchanges WHERE status_code = 429`))
		assert.Zero(t, n)
	}, apptest.WithAuthFailureLimit(0.001, 10))
}

// TestForwardedForIsBelievedOnlyFromTrustedProxies: without
// --trusted-proxies a client cannot pick the address it is logged and
// throttled as; behind a trusted proxy, the address the proxy saw counts.
func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		trusted string
		// wantSpoofWorks: rotating X-Forwarded-For escapes the limit.
		wantSpoofWorks bool
	}{
		{name: "no trusted proxies", trusted: ""},
		{name: "another proxy is trusted", trusted: "192.0.2.10"},
		{name: "the client is a trusted proxy", trusted: "127.0.0.6", wantSpoofWorks: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := apptest.Start(t, "sqlite:"+t.TempDir()+"/punchout.db", apptest.WithAuthFailureLimit(0.001, 3),
				func(c *app.Config) { c.TrustedProxies = tc.trusted })
			c := clientFrom(t, "127.0.0.6")
			refused := 0
			for i := range 10 {
				req, err := http.NewRequest(http.MethodGet, s.URL+"/api/v1/connections", nil)
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer wrong")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
				resp, err := c.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					refused++
				}
			}
			if tc.wantSpoofWorks {
				assert.Zero(t, refused, "each forwarded address is its own source")
			} else {
				assert.Equal(t, 7, refused, "the socket's address is the source")
			}
		})
	}
}

func apiStatus(t *testing.T, c *http.Client, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+"/api/v1/connections", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
