package punchout

import (
	"context"
	"encoding/json"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/internal/secret"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/organization"
)

// System is the procurement system on the other end of a connection.
type System string

// The systems.
const (
	Coupa System = "coupa"
	Ariba System = "ariba"
)

// Form fields a cart can be returned in.
const (
	FieldURLEncoded = "cxml-urlencoded"
	FieldBase64     = "cxml-base64"
)

// DefaultPAYGBlanket is the value a pay-as-you-go offer goes into a cart
// at, in the offer's currency, unless the connection says otherwise.
var DefaultPAYGBlanket = money.Bare(decimal.RequireFromString("10000.00"))

// Credential is a domain and identity, as in a cXML Credential.
type Credential struct {
	Domain   string `json:"domain"`
	Identity string `json:"identity"`
}

func (c Credential) normalized() Credential {
	return Credential{Domain: strings.TrimSpace(c.Domain), Identity: strings.TrimSpace(c.Identity)}
}

func (c Credential) empty() bool { return c.Domain == "" || c.Identity == "" }

// EInvoice is a connection's cXML invoicing setup. The secret is write-only.
type EInvoice struct {
	Enabled      bool   `json:"enabled"`
	Endpoint     string `json:"endpoint"`
	SharedSecret string `json:"shared_secret,omitempty"`
	HasSecret    bool   `json:"has_shared_secret"`
}

// OrderConfirmation is a connection's cXML order confirmations: after an
// order is taken, a ConfirmationRequest (accept; reject of the lines a
// deleted order cancels) is posted to Endpoint, carrying the e-invoicing
// shared secret, the secret the buyer gave for the documents the
// supplier sends.
type OrderConfirmation struct {
	Enabled  bool   `json:"enabled"`
	Endpoint string `json:"endpoint"`
}

// Connection is one procurement system instance of one organization: the
// credentials its documents carry and how we answer it. Its shared secret
// is stored only as a keyed digest and never leaves the gateway.
type Connection struct {
	ID                   string     `json:"id"`
	OrganizationID       string     `json:"organization_id"`
	Name                 string     `json:"name"`
	System               System     `json:"system"`
	BuyerCredential      Credential `json:"buyer_credential"`
	SupplierCredential   Credential `json:"supplier_credential"`
	SenderCredential     Credential `json:"sender_credential"`
	SharedSecret         string     `json:"shared_secret,omitempty"`
	FormPostField        string     `json:"form_post_field"`
	AutoApproveFreeBYOL  bool       `json:"auto_approve_free_byol"`
	PAYGBlanketAmount    string     `json:"payg_blanket_amount"`
	AllowedFormPostHosts []string   `json:"allowed_form_post_hosts"`
	EInvoice             EInvoice   `json:"einvoice"`
	// OrderConfirmation is off by default.
	OrderConfirmation OrderConfirmation `json:"order_confirmation"`
	// Contacts are the buyer's people told when something of the
	// connection fails (a refused invoice).
	Contacts  []Contact `json:"contacts"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Contact is one of a connection's contacts.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// Kind is technical (the integration) or billing (invoices).
	Kind string `json:"kind"`
}

// maxContacts bounds a connection's contacts.
const maxContacts = 20

// validateContacts checks and normalizes contacts.
func validateContacts(cs []Contact) ([]Contact, error) {
	if len(cs) > maxContacts {
		return nil, errs.E(errs.Invalid, "contacts: at most %d", maxContacts)
	}
	out := make([]Contact, 0, len(cs))
	for i, c := range cs {
		c.Name = strings.TrimSpace(c.Name)
		a, err := mail.ParseAddress(strings.TrimSpace(c.Email))
		if err != nil || a.Name != "" {
			return nil, errs.E(errs.Invalid, "contacts[%d].email %q is not an email address", i, c.Email)
		}
		c.Email = a.Address
		if len(c.Name) > 200 {
			return nil, errs.E(errs.Invalid, "contacts[%d].name is longer than 200 characters", i)
		}
		switch c.Kind {
		case "technical", "billing":
		default:
			return nil, errs.E(errs.Invalid, `contacts[%d].kind must be "technical" or "billing"`, i)
		}
		out = append(out, c)
	}
	return out, nil
}

// Validate checks and normalizes what an admin sends to create a
// connection.
func (c *Connection) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	if c.OrganizationID == "" {
		return errs.E(errs.Invalid, "organization_id is required")
	}
	if c.Name == "" {
		return errs.E(errs.Invalid, "name is required")
	}
	switch c.System {
	case Coupa, Ariba:
	default:
		return errs.E(errs.Invalid, `system must be "coupa" or "ariba"`)
	}
	c.BuyerCredential = c.BuyerCredential.normalized()
	c.SupplierCredential = c.SupplierCredential.normalized()
	c.SenderCredential = c.SenderCredential.normalized()
	if c.BuyerCredential.empty() {
		return errs.E(errs.Invalid, "buyer_credential needs a domain and an identity (the From credential of the buyer's documents)")
	}
	if c.SupplierCredential.empty() {
		return errs.E(errs.Invalid, "supplier_credential needs a domain and an identity (the To credential of the buyer's documents)")
	}
	if c.SenderCredential.Domain == "" && c.SenderCredential.Identity == "" {
		c.SenderCredential = c.BuyerCredential
	} else if c.SenderCredential.empty() {
		return errs.E(errs.Invalid, "sender_credential needs both a domain and an identity, or leave it out to use the buyer's")
	}
	if len(c.SharedSecret) < 8 {
		return errs.E(errs.Invalid, "shared_secret must be at least 8 characters")
	}
	switch c.FormPostField {
	case "":
		c.FormPostField = FieldURLEncoded
	case FieldURLEncoded, FieldBase64:
	default:
		return errs.E(errs.Invalid, `form_post_field must be "cxml-urlencoded" or "cxml-base64"`)
	}
	// The blanket has no currency of its own (it is in each offer's), so
	// it is written with the default two decimals, or more where given;
	// CartPrice rounds it to the offer's currency's minor unit.
	if strings.TrimSpace(c.PAYGBlanketAmount) == "" {
		c.PAYGBlanketAmount = DefaultPAYGBlanket.String()
	}
	amt, err := money.ParseBare(c.PAYGBlanketAmount)
	if err != nil || amt.Sign() <= 0 {
		return errs.E(errs.Invalid, `payg_blanket_amount must be a positive decimal string such as "10000.00"`)
	}
	c.PAYGBlanketAmount = amt.String()
	hosts := make([]string, 0, len(c.AllowedFormPostHosts))
	for i, h := range c.AllowedFormPostHosts {
		n, ok := allowListEntry(h)
		if !ok {
			return errs.E(errs.Invalid, "allowed_form_post_hosts[%d] (%q) must be a host name such as acme.coupahost.com or an IP address, without scheme, port, path or wildcard (a listed host allows its subdomains)",
				i, truncate(h, 100))
		}
		if !slices.Contains(hosts, n) {
			hosts = append(hosts, n)
		}
	}
	c.AllowedFormPostHosts = hosts
	if c.EInvoice.Enabled {
		if c.System != Coupa {
			return errs.E(errs.Invalid, "cXML invoicing is available for Coupa connections only; Ariba connections receive no cXML invoices")
		}
		endpoint, err := documentEndpoint("einvoice.endpoint", c.EInvoice.Endpoint, "https://acme.coupahost.com/cxml/invoices")
		if err != nil {
			return err
		}
		c.EInvoice.Endpoint = endpoint
		if c.EInvoice.SharedSecret == "" {
			return errs.E(errs.Invalid, "einvoice.shared_secret is required when e-invoicing is enabled")
		}
	}
	if c.OrderConfirmation.Enabled {
		endpoint, err := documentEndpoint("order_confirmation.endpoint", c.OrderConfirmation.Endpoint, "https://acme.coupahost.com/cxml/order_confirmations")
		if err != nil {
			return err
		}
		c.OrderConfirmation.Endpoint = endpoint
		if c.EInvoice.SharedSecret == "" {
			return errs.E(errs.Invalid, "order_confirmation needs einvoice.shared_secret: a confirmation carries the secret the buyer gave for the documents the supplier sends")
		}
	}
	cs, err := validateContacts(c.Contacts)
	if err != nil {
		return err
	}
	c.Contacts = cs
	return nil
}

// documentEndpoint checks the URL a connection's outbound documents
// (invoices, confirmations) are posted to: they carry the shared secret
// and the buyer's data, so https, with plain http only to this machine
// for tests and local stand-ins, and never a user name or password.
func documentEndpoint(field, raw, example string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", errs.E(errs.Invalid, "%s must be an https URL without user name or password, such as %s", field, example)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return "", errs.E(errs.Invalid, "%s %s is not https; %s carry the shared secret and billing data, so they are sent over https only (plain http is accepted only for a loopback address: 127.0.0.1, ::1 or localhost)",
			field, truncate(u.Redacted(), 200), map[bool]string{true: "invoices", false: "order confirmations"}[field == "einvoice.endpoint"])
	}
	return u.String(), nil
}

func contactsJSON(cs []Contact) string {
	if cs == nil {
		cs = []Contact{}
	}
	b, _ := json.Marshal(cs)
	return string(b)
}

// PAYGBlanket is the value a pay-as-you-go offer goes into this
// connection's carts at: bare, since it is in each offer's currency.
func (c *Connection) PAYGBlanket() money.Amount {
	a, err := money.ParseBare(c.PAYGBlanketAmount)
	if err != nil || !a.IsSet() {
		return DefaultPAYGBlanket
	}
	return a
}

// credentialKey is the lookup key of a From/To/Sender triple: domains
// compare without case, identities exactly.
func credentialKey(from, to, sender Credential) string {
	const sep = "\x1f"
	return strings.ToLower(from.Domain) + sep + from.Identity + sep +
		strings.ToLower(to.Domain) + sep + to.Identity + sep +
		strings.ToLower(sender.Domain) + sep + sender.Identity
}

// CheckFormPost says why a cart may not be posted to rawURL, or returns
// nil when it may. Setup checks it before a session opens and checkout
// again before the cart leaves (the allow-list may have changed since).
//
// rawURL must be an absolute http or https URL whose host is a plain
// host name or IP literal (see parseOrigin); anything else is Invalid.
// Then, Forbidden unless one of these holds:
//   - the connection has no allow-list, and the URL is https or its host
//     is a loopback address (127.0.0.0/8, ::1, localhost: a local
//     stand-in of the procurement system, for trying the gateway out);
//   - the host is on the allow-list, or is a subdomain of a listed name:
//     over https or http, since listing a host is how an admin says that
//     buyer host may take carts over plain http. With a list, loopback
//     addresses too must be listed: an admin who lists the buyer's hosts
//     means those and no others.
func (c *Connection) CheckFormPost(rawURL string) error {
	o, ok := parseOrigin(rawURL)
	if !ok {
		return errs.E(errs.Invalid, "the BrowserFormPost URL %q is not an absolute http(s) URL with a plain host name (no user name or password; no spaces, quotes, semicolons, commas or wildcards in the host; a port from 1 to 65535), so no cart can be returned to it",
			truncate(strings.TrimSpace(rawURL), 200))
	}
	shown := truncate(strings.TrimSpace(rawURL), 200)
	if len(c.AllowedFormPostHosts) == 0 {
		if o.Scheme == "https" || o.loopback() {
			return nil
		}
		return errs.E(errs.Forbidden, "the BrowserFormPost URL %s is not https and %s is not on the connection's allow-list (it has none, so carts go to https URLs and to loopback addresses only); use an https URL, or ask the supplier to add %s to the connection's allowed_form_post_hosts",
			shown, o.Host, o.Host)
	}
	if c.listed(o) {
		return nil
	}
	list := strings.Join(c.AllowedFormPostHosts, ", ")
	if o.Scheme == "http" {
		return errs.E(errs.Forbidden, "the BrowserFormPost URL %s is not https and %s is not on the connection's allow-list (%s); ask the supplier to add it", shown, o.Host, list)
	}
	return errs.E(errs.Forbidden, "the BrowserFormPost URL %s is on host %s, which is not on the connection's allow-list (%s), so carts cannot be returned to it; ask the supplier to add it",
		shown, o.Host, list)
}

// listed reports whether o's host is on the allow-list: an IP literal
// exactly, a name exactly or as a subdomain of a listed name.
func (c *Connection) listed(o origin) bool {
	for _, h := range c.AllowedFormPostHosts {
		if ip, err := netip.ParseAddr(h); err == nil {
			if o.IP.IsValid() && o.IP.Unmap() == ip.Unmap() {
				return true
			}
			continue
		}
		if !o.IP.IsValid() && (o.Host == h || strings.HasSuffix(o.Host, "."+h)) {
			return true
		}
	}
	return false
}

// origin is the scheme, host and port of a URL a browser posts a cart
// to, each checked, so that String can go into a Content-Security-Policy
// header (form-action, frame-ancestors) as it is: it follows the grammar
// of a CSP host-source, which has no room for anything a hostile
// BrowserFormPost URL might smuggle into the header.
type origin struct {
	Scheme string     // "https" or "http"
	Host   string     // lower-case host name, or the IP address without brackets
	Port   string     // decimal 1-65535, or "" for the scheme's default
	IP     netip.Addr // the address when Host is an IP literal
}

// String is scheme://host[:port], an IPv6 address in brackets.
func (o origin) String() string {
	h := o.Host
	if o.IP.Is6() {
		h = "[" + h + "]"
	}
	if o.Port != "" {
		h += ":" + o.Port
	}
	return o.Scheme + "://" + h
}

func (o origin) loopback() bool { return loopbackHost(o.Host) }

// loopbackHost reports whether a URL's host names this machine:
// 127.0.0.0/8, ::1 or localhost.
func loopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// parseOrigin reads the origin of an absolute http(s) URL. It refuses
// user info, an opaque URL, a port outside 1-65535, an IPv6 zone, and a
// host that is neither an IP literal nor a DNS name of letters, digits and
// hyphens (no spaces, quotes, semicolons, commas, wildcards, underscores,
// percent signs or non-ASCII letters: IDNs come in their xn-- form).
func parseOrigin(rawURL string) (origin, bool) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Opaque != "" || u.User != nil || u.Host == "" {
		return origin{}, false
	}
	o := origin{Scheme: u.Scheme}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return origin{}, false
		}
		o.Port = strconv.Itoa(n)
	} else if strings.HasSuffix(u.Host, ":") {
		return origin{}, false
	}
	host := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return origin{}, false
		}
		o.Host, o.IP = ip.String(), ip
		return o, true
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
		o.Host, o.IP = ip.String(), ip
		return o, true
	}
	if !validHostName(host) {
		return origin{}, false
	}
	o.Host = strings.ToLower(host)
	return o, true
}

// validHostName reports whether h is a DNS name a CSP host-source can
// hold: dot-separated labels of 1-63 letters, digits and inner hyphens,
// 253 characters at most, no trailing dot. Its last label must not start
// with a digit: browsers read such a host (2130706433, 0x7f.1) as an IPv4
// address, which it would then not be checked as.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			ch := l[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return last[0] < '0' || last[0] > '9'
}

// allowListEntry normalizes an entry of allowed_form_post_hosts: a host
// name in lower case, or an IP address (an IPv6 one with or without
// brackets) in its canonical form.
func allowListEntry(h string) (string, bool) {
	h = strings.ToLower(strings.TrimSpace(h))
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); err == nil {
		if ip.Zone() != "" {
			return "", false
		}
		return ip.String(), true
	}
	if !validHostName(h) {
		return "", false
	}
	return h, true
}

type connectionRow struct {
	ID                   string     `db:"id"`
	OrganizationID       string     `db:"organization_id"`
	Name                 string     `db:"name"`
	System               string     `db:"system"`
	BuyerDomain          string     `db:"buyer_domain"`
	BuyerIdentity        string     `db:"buyer_identity"`
	SupplierDomain       string     `db:"supplier_domain"`
	SupplierIdentity     string     `db:"supplier_identity"`
	SenderDomain         string     `db:"sender_domain"`
	SenderIdentity       string     `db:"sender_identity"`
	CredentialKey        string     `db:"credential_key"`
	SecretDigest         string     `db:"secret_digest"`
	FormPostField        string     `db:"form_post_field"`
	AutoApproveFreeBYOL  bool       `db:"auto_approve_free_byol"`
	PAYGBlanketAmount    string     `db:"payg_blanket_amount"`
	AllowedFormPostHosts string     `db:"allowed_form_post_hosts"`
	EInvoiceEnabled      bool       `db:"einvoice_enabled"`
	EInvoiceEndpoint     string     `db:"einvoice_endpoint"`
	EInvoiceSecret       string     `db:"einvoice_secret"`
	Contacts             string     `db:"contacts"`
	ConfirmEnabled       bool       `db:"confirm_enabled"`
	ConfirmEndpoint      string     `db:"confirm_endpoint"`
	DisabledAt           *time.Time `db:"disabled_at"`
	CreatedAt            time.Time  `db:"created_at"`
}

const connectionColumns = `id, organization_id, name, system, buyer_domain, buyer_identity, supplier_domain,
	supplier_identity, sender_domain, sender_identity, credential_key, secret_digest, form_post_field,
	auto_approve_free_byol, payg_blanket_amount, allowed_form_post_hosts, einvoice_enabled,
	einvoice_endpoint, einvoice_secret, contacts, confirm_enabled, confirm_endpoint, disabled_at, created_at`

func (r *connectionRow) connection() *Connection {
	c := &Connection{
		ID: r.ID, OrganizationID: r.OrganizationID, Name: r.Name, System: System(r.System),
		BuyerCredential:     Credential{r.BuyerDomain, r.BuyerIdentity},
		SupplierCredential:  Credential{r.SupplierDomain, r.SupplierIdentity},
		SenderCredential:    Credential{r.SenderDomain, r.SenderIdentity},
		FormPostField:       r.FormPostField,
		AutoApproveFreeBYOL: r.AutoApproveFreeBYOL,
		PAYGBlanketAmount:   r.PAYGBlanketAmount,
		AllowedFormPostHosts: func() []string {
			if r.AllowedFormPostHosts == "" {
				return []string{}
			}
			return strings.Split(r.AllowedFormPostHosts, ",")
		}(),
		EInvoice:          EInvoice{Enabled: r.EInvoiceEnabled, Endpoint: r.EInvoiceEndpoint, HasSecret: r.EInvoiceSecret != ""},
		Contacts:          []Contact{},
		OrderConfirmation: OrderConfirmation{Enabled: r.ConfirmEnabled, Endpoint: r.ConfirmEndpoint},
		Disabled:          r.DisabledAt != nil,
		CreatedAt:         r.CreatedAt,
	}
	_ = json.Unmarshal([]byte(r.Contacts), &c.Contacts) // Written by this package, from validated contacts.
	return c
}

// Connections keeps connections and authenticates requests against them.
type Connections struct {
	db   *db.DB
	keys *secret.Keyring
	now  func() time.Time
}

// NewConnections returns the connection store; now is its clock.
func NewConnections(d *db.DB, keys *secret.Keyring, now func() time.Time) *Connections {
	return &Connections{db: d, keys: keys, now: now}
}

// Create validates c and stores it with its secret digested and its
// e-invoicing secret encrypted. It keeps c.ID when set (seeding), else
// makes one. The organization must exist and use its
// procurement system for PO numbers. It clears the secrets from c.
func (s *Connections) Create(ctx context.Context, c *Connection) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = id.New("conn")
	}
	row := &connectionRow{
		ID: c.ID, OrganizationID: c.OrganizationID, Name: c.Name, System: string(c.System),
		BuyerDomain: c.BuyerCredential.Domain, BuyerIdentity: c.BuyerCredential.Identity,
		SupplierDomain: c.SupplierCredential.Domain, SupplierIdentity: c.SupplierCredential.Identity,
		SenderDomain: c.SenderCredential.Domain, SenderIdentity: c.SenderCredential.Identity,
		CredentialKey:        credentialKey(c.BuyerCredential, c.SupplierCredential, c.SenderCredential),
		SecretDigest:         s.keys.Digest(c.SharedSecret),
		FormPostField:        c.FormPostField,
		AutoApproveFreeBYOL:  c.AutoApproveFreeBYOL,
		PAYGBlanketAmount:    c.PAYGBlanketAmount,
		AllowedFormPostHosts: strings.Join(c.AllowedFormPostHosts, ","),
		EInvoiceEnabled:      c.EInvoice.Enabled,
		EInvoiceEndpoint:     c.EInvoice.Endpoint,
		Contacts:             contactsJSON(c.Contacts),
		ConfirmEnabled:       c.OrderConfirmation.Enabled,
		ConfirmEndpoint:      c.OrderConfirmation.Endpoint,
		CreatedAt:            s.now().UTC(),
	}
	if c.EInvoice.SharedSecret != "" {
		enc, err := s.keys.Encrypt(c.EInvoice.SharedSecret)
		if err != nil {
			return err
		}
		row.EInvoiceSecret = enc
	}
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		org, err := organization.Get(ctx, tx, c.OrganizationID)
		if err != nil {
			return err
		}
		if org.POMode != organization.POModeProcurementSystem {
			return errs.E(errs.Conflict, "organization %s takes PO numbers %s; procurement-system integration and PO entry at checkout are never both enabled",
				org.ID, map[organization.POMode]string{organization.POModeCheckout: "at checkout", organization.POModeNone: "from nowhere (po_mode none)"}[org.POMode])
		}
		_, err = sqlx.NamedExecContext(ctx, tx, `INSERT INTO connections (`+connectionColumns+`) VALUES (
			:id, :organization_id, :name, :system, :buyer_domain, :buyer_identity, :supplier_domain,
			:supplier_identity, :sender_domain, :sender_identity, :credential_key, :secret_digest, :form_post_field,
			:auto_approve_free_byol, :payg_blanket_amount, :allowed_form_post_hosts, :einvoice_enabled,
			:einvoice_endpoint, :einvoice_secret, :contacts, :confirm_enabled, :confirm_endpoint, :disabled_at, :created_at)`, row)
		if err != nil {
			return db.Translate(err, "an enabled connection already uses these From, To and Sender credentials")
		}
		return access.Record(ctx, tx, row.OrganizationID, "connection.create", "connection", row.ID, access.Diff(nil, row.connection()), s.now())
	})
	if err != nil {
		return err
	}
	*c = *row.connection()
	return nil
}

// Get returns a connection by ID, or NotFound.
func (s *Connections) Get(ctx context.Context, connID string) (*Connection, error) {
	var r connectionRow
	err := s.db.R.GetContext(ctx, &r, s.db.Rebind(`SELECT `+connectionColumns+` FROM connections WHERE id = ?`), connID)
	if err != nil {
		return nil, db.Translate(err, "connection %s not found", connID)
	}
	return r.connection(), nil
}

// List returns the connections of an organization, or all of them when
// orgID is empty.
func (s *Connections) List(ctx context.Context, orgID string) ([]*Connection, error) {
	var rows []connectionRow
	q := `SELECT ` + connectionColumns + ` FROM connections`
	var args []any
	if orgID != "" {
		q += ` WHERE organization_id = ?`
		args = append(args, orgID)
	}
	q += ` ORDER BY created_at, id`
	if err := s.db.R.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, err
	}
	out := make([]*Connection, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].connection())
	}
	return out, nil
}

// Disable stops a connection from authenticating anything. Its sessions,
// orders and invoices stay.
func (s *Connections) Disable(ctx context.Context, connID string) (*Connection, error) {
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE connections SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL`), s.now().UTC(), connID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := tx.GetContext(ctx, &one, tx.Rebind(`SELECT 1 FROM connections WHERE id = ?`), connID); err != nil {
				return db.Translate(err, "connection %s not found", connID)
			}
			return nil // Disabled before.
		}
		var org string
		if err := tx.GetContext(ctx, &org, tx.Rebind(`SELECT organization_id FROM connections WHERE id = ?`), connID); err != nil {
			return err
		}
		return access.Record(ctx, tx, org, "connection.disable", "connection", connID, map[string]access.Change{"disabled_at": {After: s.now().UTC()}}, s.now())
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, connID)
}

// EInvoiceSecret decrypts the secret sent with the connection's invoices.
func (s *Connections) EInvoiceSecret(ctx context.Context, connID string) (string, error) {
	var enc string
	err := s.db.R.GetContext(ctx, &enc, s.db.Rebind(`SELECT einvoice_secret FROM connections WHERE id = ?`), connID)
	if err != nil {
		return "", err
	}
	if enc == "" {
		return "", errs.E(errs.Invalid, "connection %s has no e-invoicing secret", connID)
	}
	return s.keys.Decrypt(enc)
}

// InvoiceParty gives billing what a connection's cXML invoices need, with
// the e-invoicing secret decrypted (it is never stored in plain text).
func (s *Connections) InvoiceParty(ctx context.Context, connID string) (invoicing.InvoiceParty, error) {
	c, err := s.Get(ctx, connID)
	if err != nil {
		return invoicing.InvoiceParty{}, err
	}
	p := c.documentParty()
	if c.EInvoice.HasSecret {
		if p.Secret, err = s.EInvoiceSecret(ctx, connID); err != nil {
			return p, err
		}
	}
	return p, nil
}

// documentParty is who the connection's outbound documents are from and
// to, without the secret (put in when a document is sent): From us, the
// supplier; To the buyer; Sender us.
func (c *Connection) documentParty() invoicing.InvoiceParty {
	p := invoicing.InvoiceParty{
		Enabled:  c.EInvoice.Enabled,
		Endpoint: c.EInvoice.Endpoint,
		From:     cxml.Credential{Domain: c.SupplierCredential.Domain, Identity: c.SupplierCredential.Identity},
		To:       cxml.Credential{Domain: c.BuyerCredential.Domain, Identity: c.BuyerCredential.Identity},
		Sender:   cxml.Credential{Domain: c.SupplierCredential.Domain, Identity: c.SupplierCredential.Identity},

		OrganizationID: c.OrganizationID, Name: c.Name, System: c.SystemName(),
		ConfirmEndpoint: c.OrderConfirmation.Endpoint,
	}
	for _, ct := range c.Contacts {
		p.Contacts = append(p.Contacts, invoicing.PartyContact{Name: ct.Name, Email: ct.Email})
	}
	return p
}

// unauthorized is the one answer to every authentication failure: it does
// not say which part failed, so it tells a prober nothing.
var unauthorized = errs.E(errs.Unauthorized,
	"the From, To and Sender credentials and shared secret of this document do not match a connection configured for this gateway; check them with your supplier administrator")

// Authenticate finds the enabled connection whose From, To and Sender
// credentials the header carries and checks the Sender's shared secret
// against it in constant time. Every failure is the same Unauthorized
// error.
func (s *Connections) Authenticate(ctx context.Context, h *cxml.Header) (*Connection, error) {
	if h == nil {
		return nil, unauthorized
	}
	type candidate struct {
		key    string
		digest []byte
	}
	n := len(h.From.Credentials) * len(h.To.Credentials) * len(h.Sender.Credentials)
	if n == 0 || n > 64 {
		return nil, unauthorized
	}
	// Every candidate's secret is digested before the lookup, whether or
	// not its triple is known, so that the work done, and its time, does
	// not tell a known From/To/Sender triple from an unknown one.
	cands := make([]candidate, 0, n)
	for _, f := range h.From.Credentials {
		for _, t := range h.To.Credentials {
			for _, sn := range h.Sender.Credentials {
				cands = append(cands, candidate{
					key: credentialKey(
						Credential{f.Domain, f.Identity}.normalized(),
						Credential{t.Domain, t.Identity}.normalized(),
						Credential{sn.Domain, sn.Identity}.normalized()),
					digest: s.keys.DigestBytes(sn.SharedSecret),
				})
			}
		}
	}
	keys := make([]string, len(cands))
	for i, c := range cands {
		keys[i] = c.key
	}
	q, args, err := sqlx.In(`SELECT `+connectionColumns+` FROM connections WHERE disabled_at IS NULL AND credential_key IN (?)`, keys)
	if err != nil {
		return nil, err
	}
	var rows []connectionRow
	if err := s.db.R.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, err
	}
	var found *connectionRow
	for i := range rows {
		for _, c := range cands {
			if c.key == rows[i].CredentialKey && secret.EqualDigest(c.digest, rows[i].SecretDigest) && found == nil {
				found = &rows[i]
			}
		}
	}
	if found == nil {
		return nil, unauthorized
	}
	return found.connection(), nil
}

// ConnectionChange is an admin's change to a connection; nil fields are
// left as they are. Credentials are not changed: create a new connection
// and disable the old one, so that no document is ever matched to a
// connection it was not sent for.
type ConnectionChange struct {
	SharedSecret         *string            `json:"shared_secret"`
	FormPostField        *string            `json:"form_post_field"`
	AutoApproveFreeBYOL  *bool              `json:"auto_approve_free_byol"`
	PAYGBlanketAmount    *string            `json:"payg_blanket_amount"`
	AllowedFormPostHosts *[]string          `json:"allowed_form_post_hosts"`
	EInvoice             *EInvoice          `json:"einvoice"`
	Contacts             *[]Contact         `json:"contacts"`
	OrderConfirmation    *OrderConfirmation `json:"order_confirmation"`
}

// Update applies a change, validated as a whole connection would be. A
// new shared secret or e-invoicing secret replaces the stored digest or
// ciphertext; an omitted e-invoicing secret keeps the old one.
func (s *Connections) Update(ctx context.Context, connID string, ch *ConnectionChange) (*Connection, error) {
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		var r connectionRow
		err := tx.GetContext(ctx, &r, tx.Rebind(`SELECT `+connectionColumns+` FROM connections WHERE id = ?`), connID)
		if err != nil {
			return db.Translate(err, "connection %s not found", connID)
		}
		c := r.connection()
		c.SharedSecret = "unchanged-placeholder" // Validated only when changed.
		if ch.SharedSecret != nil {
			c.SharedSecret = *ch.SharedSecret
		}
		if ch.FormPostField != nil {
			c.FormPostField = *ch.FormPostField
		}
		if ch.AutoApproveFreeBYOL != nil {
			c.AutoApproveFreeBYOL = *ch.AutoApproveFreeBYOL
		}
		if ch.PAYGBlanketAmount != nil {
			c.PAYGBlanketAmount = *ch.PAYGBlanketAmount
		}
		if ch.AllowedFormPostHosts != nil {
			c.AllowedFormPostHosts = append([]string{}, *ch.AllowedFormPostHosts...)
		}
		if ch.EInvoice != nil {
			c.EInvoice = EInvoice{Enabled: ch.EInvoice.Enabled, Endpoint: ch.EInvoice.Endpoint, SharedSecret: ch.EInvoice.SharedSecret}
		}
		if ch.Contacts != nil {
			c.Contacts = append([]Contact{}, *ch.Contacts...)
		}
		if ch.OrderConfirmation != nil {
			c.OrderConfirmation = *ch.OrderConfirmation
		}
		if c.EInvoice.SharedSecret == "" && r.EInvoiceSecret != "" {
			// A change that leaves the secret out (or all of einvoice)
			// keeps the stored one; only its presence is validated.
			c.EInvoice.SharedSecret = "kept"
		}
		if err := c.Validate(); err != nil {
			return err
		}
		digest := r.SecretDigest
		if ch.SharedSecret != nil {
			digest = s.keys.Digest(*ch.SharedSecret)
		}
		encSecret := r.EInvoiceSecret
		if ch.EInvoice != nil && ch.EInvoice.SharedSecret != "" {
			if encSecret, err = s.keys.Encrypt(ch.EInvoice.SharedSecret); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE connections SET secret_digest = ?, form_post_field = ?, auto_approve_free_byol = ?,
			payg_blanket_amount = ?, allowed_form_post_hosts = ?, einvoice_enabled = ?, einvoice_endpoint = ?, einvoice_secret = ?, contacts = ?, confirm_enabled = ?, confirm_endpoint = ? WHERE id = ?`),
			digest, c.FormPostField, c.AutoApproveFreeBYOL, c.PAYGBlanketAmount, strings.Join(c.AllowedFormPostHosts, ","),
			c.EInvoice.Enabled, c.EInvoice.Endpoint, encSecret, contactsJSON(c.Contacts), c.OrderConfirmation.Enabled, c.OrderConfirmation.Endpoint, connID)
		if err != nil {
			return err
		}
		var after connectionRow
		if err := tx.GetContext(ctx, &after, tx.Rebind(`SELECT `+connectionColumns+` FROM connections WHERE id = ?`), connID); err != nil {
			return err
		}
		changes := access.Diff(r.connection(), after.connection())
		if ch.SharedSecret != nil {
			changes["shared_secret"] = access.SecretChanged
		}
		if ch.EInvoice != nil && ch.EInvoice.SharedSecret != "" {
			changes["einvoice.shared_secret"] = access.SecretChanged
		}
		return access.Record(ctx, tx, after.OrganizationID, "connection.update", "connection", connID, changes, s.now())
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, connID)
}
