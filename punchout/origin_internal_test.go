package punchout

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The origin of a BrowserFormPost URL goes into the Content-Security-Policy
// header, so it is rebuilt from checked parts or not used at all.
func TestFormActionSource(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://buyer.example/punchout/checkout?id=27", "https://buyer.example"},
		{"  HTTPS://Buyer.Example:8443/x#frag ", "https://buyer.example:8443"},
		{"http://127.0.0.1:39211/punchout/checkout?id=27", "http://127.0.0.1:39211"},
		{"http://[::1]:8080/x", "http://[::1]:8080"},
		{"https://[2001:DB8:0:0::1]/cart", "https://[2001:db8::1]"},
		{"https://[::ffff:10.0.0.1]/", "https://[::ffff:10.0.0.1]"},
		{"https://buyer.example:08443/", "https://buyer.example:8443"},
		{"https://buyer.example:65535/", "https://buyer.example:65535"},
		{"https://xn--bcher-kva.example/", "https://xn--bcher-kva.example"},
		{"https://s1.eu.ariba.com/Buyer/Main?x=';script-src *", "https://s1.eu.ariba.com"},

		// Hostile or unusable: no source at all.
		{"https://buyer.example;script-src *", ""},
		{"https://buyer.example;script-src", ""},
		{"https://a.example 'unsafe-inline'", ""},
		{"https://a.example%20'unsafe-inline'/", ""},
		{"https://a%3bb.example/", ""},
		{"https://a.example,b.example/", ""},
		{`https://a"b.example/`, ""},
		{"https://a'b.example/", ""},
		{"https://*.example.com/", ""},
		{"https://*/", ""},
		{"javascript:alert(1)", ""},
		{"data:text/html,<script>alert(1)</script>", ""},
		{"https://user:pw@host.example/", ""},
		{"https://user@host.example/", ""},
		{"ftp://host.example/", ""},
		{"https:host.example", ""},
		{"//host.example/path", ""},
		{"/punchout/checkout", ""},
		{"https://", ""},
		{"https://host.example:/", ""},
		{"https://host.example:0/", ""},
		{"https://host.example:65536/", ""},
		{"https://host.example:99999999999999999999/", ""},
		{"https://[fe80::1%25eth0]/", ""},
		{"https://[1.2.3.4]/", ""},
		{"https://a_b.example/", ""},
		{"https://bücher.example/", ""},
		{"https://example.com./", ""},
		{"https://-a.example/", ""},
		{"https://2130706433/", ""},
		{"https://0x7f.1/", ""},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, formActionSource(tc.in))
		})
	}
}

func TestCheckFormPost(t *testing.T) {
	open := &Connection{}
	listed := &Connection{AllowedFormPostHosts: []string{"acme.coupahost.com", "10.1.2.3", "fd00::7"}}
	for _, tc := range []struct {
		name string
		conn *Connection
		url  string
		ok   bool
		why  string
	}{
		{"no list, https", open, "https://anyone.example/x", true, ""},
		{"no list, http", open, "http://buyer.example/x", false, "the BrowserFormPost URL http://buyer.example/x is not https and buyer.example is not on the connection's allow-list"},
		{"no list, http loopback v4", open, "http://127.0.0.1:8080/x", true, ""},
		{"no list, http loopback 127/8", open, "http://127.9.8.7/x", true, ""},
		{"no list, http loopback v6", open, "http://[::1]:8080/x", true, ""},
		{"no list, http localhost", open, "http://LOCALHOST:3000/x", true, ""},
		{"no list, http private address", open, "http://10.1.2.3/x", false, "is not https"},
		{"no list, localhost lookalike", open, "http://localhost.evil.example/x", false, "is not https"},
		{"no list, hostile", open, "https://buyer.example;script-src *", false, "not an absolute http(s) URL with a plain host name"},
		{"no list, user info", open, "https://user:pw@buyer.example/", false, "not an absolute http(s) URL"},
		{"list, listed https", listed, "https://acme.coupahost.com/x", true, ""},
		{"list, listed http", listed, "http://acme.coupahost.com/x", true, ""},
		{"list, subdomain", listed, "https://eu.acme.coupahost.com/x", true, ""},
		{"list, suffix that is no subdomain", listed, "https://evilacme.coupahost.com/x", false, "not on the connection's allow-list (acme.coupahost.com, 10.1.2.3, fd00::7)"},
		{"list, other https host", listed, "https://evil.example/collect", false, "is on host evil.example, which is not on the connection's allow-list"},
		{"list, other http host", listed, "http://evil.example/collect", false, "is not https and evil.example is not on the connection's allow-list (acme.coupahost.com"},
		{"list, listed IPv4", listed, "http://10.1.2.3:8080/x", true, ""},
		{"list, name under a listed IPv4", listed, "https://x.10.1.2.3.example/x", false, "not on the connection's allow-list"},
		{"list, listed IPv6", listed, "https://[fd00:0::7]/x", true, ""},
		{"list, loopback not listed", listed, "http://127.0.0.1:9/x", false, "is not https and 127.0.0.1 is not on the connection's allow-list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.conn.CheckFormPost(tc.url)
			assert.Equal(t, tc.ok, err == nil, "%v", err)
			if !tc.ok && err != nil {
				assert.Contains(t, err.Error(), tc.why)
			}
		})
	}
}

func TestAllowListEntries(t *testing.T) {
	base := func(hosts ...string) *Connection {
		return &Connection{
			OrganizationID: "org", Name: "x", System: Coupa, SharedSecret: "secret-123",
			BuyerCredential: Credential{"d", "b"}, SupplierCredential: Credential{"d", "s"}, AllowedFormPostHosts: hosts,
		}
	}
	c := base(" Acme.CoupaHost.com ", "acme.coupahost.com", "[FD00::7]", "10.1.2.3")
	assert.NoError(t, c.Validate())
	assert.Equal(t, []string{"acme.coupahost.com", "fd00::7", "10.1.2.3"}, c.AllowedFormPostHosts)
	for _, h := range []string{"", "https://acme.example", "acme.example:443", "acme.example/x", "*.acme.example", "user@acme.example",
		"acme example", "acme.example;script-src", "a_b.example", "fe80::1%eth0"} {
		err := base("ok.example", h).Validate()
		if assert.Error(t, err, h) {
			assert.Contains(t, err.Error(), "allowed_form_post_hosts[1]")
		}
	}
}
