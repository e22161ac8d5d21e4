package hostile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
)

// coupaDoc is a document from the demo Coupa connection with secret as
// its shared secret and body as its request.
func coupaDoc(payloadID, secret, body string) []byte {
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<cXML payloadID=%q timestamp="2024-09-21T16:34:09-04:00" xml:lang="en-US">
  <Header>
    <From><Credential domain="NetworkID"><Identity>DemoCorpCoupa</Identity></Credential></From>
    <To><Credential domain="DUNS"><Identity>081254817</Identity></Credential></To>
    <Sender><Credential domain="NetworkID"><Identity>DemoCorpCoupa</Identity><SharedSecret>%s</SharedSecret></Credential>
      <UserAgent>Coupa Procurement 1.0</UserAgent></Sender>
  </Header>
  <Request>%s</Request>
</cXML>`, payloadID, secret, body))
}

// clientFrom is an HTTP client whose connections come from a loopback
// address of its own (any of 127.0.0.0/8 reaches the test server), so a
// test can play several sources.
func clientFrom(t testing.TB, source string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConnsPerHost: 64,
	}}
}

// postCXML posts body to url's /cxml and returns the answer's Status and
// the HTTP response's headers. Every answer must be a cXML document.
func postCXML(t testing.TB, c *http.Client, url string, body []byte) (cxml.Status, http.Header) {
	t.Helper()
	resp, err := c.Post(url+"/cxml", "text/xml", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc, err := cxml.Parse(out, cxml.Limits{})
	require.NoError(t, err, "the answer is cXML: %s", out)
	require.NotNil(t, doc.Response)
	return doc.Response.Status, resp.Header
}

// get fetches url and returns its body.
func get(t testing.TB, url string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// series counts the samples of the gateway's own metrics in a /metrics
// page.
func series(page []byte) int {
	n := 0
	for _, line := range strings.Split(string(page), "\n") {
		if strings.HasPrefix(line, "punchout_") {
			n++
		}
	}
	return n
}
