package app

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/organization"
	"github.com/cxmlgate/punchout/punchout"
)

// Demo data, listed in the README. Fixtures in fixtures/ carry these
// credentials, so a fixture posted to a --demo server is answered.
const (
	DemoAdminToken     = "demo-admin-token"
	DemoOrganizationID = "org_demo"
	DemoCoupaID        = "conn_demo_coupa"
	DemoAribaID        = "conn_demo_ariba"
	DemoCoupaSecret    = "coupa-demo-secret"
	DemoAribaSecret    = "ariba-demo-secret"
	// The demo organization's people, who sign in to the console.
	DemoAdminEmail      = "admin@democorp.example"
	DemoAdminPassword   = "demo-admin-password"
	DemoBillingEmail    = "billing@democorp.example"
	DemoBillingPassword = "demo-billing-password"
)

// DemoConnections are the demo organization's two connections, as an
// admin would create them. Each restricts carts to its system's hosts:
// the Coupa one to demo.coupahost.com (the BrowserFormPost host of the
// Coupa fixtures), the Ariba one to ariba.com and its subdomains
// (service.ariba.com in the Ariba fixtures, s1.ariba.com and the like).
// Both also list 127.0.0.1, ::1 and localhost, where a stand-in buyer listens
// when the demo is tried on one machine (and in the tests); a real
// connection's list names only the buyer's hosts.
func DemoConnections() []punchout.Connection {
	return []punchout.Connection{
		{
			ID: DemoCoupaID, OrganizationID: DemoOrganizationID, Name: "Demo Corp Coupa", System: punchout.Coupa,
			BuyerCredential:      punchout.Credential{Domain: "NetworkID", Identity: "DemoCorpCoupa"},
			SupplierCredential:   punchout.Credential{Domain: "DUNS", Identity: "081254817"},
			SharedSecret:         DemoCoupaSecret,
			FormPostField:        punchout.FieldURLEncoded,
			AllowedFormPostHosts: []string{"demo.coupahost.com", "127.0.0.1", "::1", "localhost"},
		},
		{
			ID: DemoAribaID, OrganizationID: DemoOrganizationID, Name: "Demo Corp SAP Ariba", System: punchout.Ariba,
			BuyerCredential:      punchout.Credential{Domain: "NetworkId", Identity: "AN01000000001-T"},
			SupplierCredential:   punchout.Credential{Domain: "NetworkId", Identity: "AN01000000002-T"},
			SenderCredential:     punchout.Credential{Domain: "AribaNetworkUserId", Identity: "sysadmin@ariba.com"},
			SharedSecret:         DemoAribaSecret,
			FormPostField:        punchout.FieldBase64,
			AutoApproveFreeBYOL:  true,
			AllowedFormPostHosts: []string{"ariba.com", "127.0.0.1", "::1", "localhost"},
		},
	}
}

//go:embed demodata/catalog.json
var demoCatalog []byte

// DemoCatalog is the demo catalog: every product type and pricing model,
// a private FPS offer for the demo organization, and offers the
// integration cannot send (professional services, AMI and container
// contracts).
func DemoCatalog() (*catalog.File, error) {
	var f catalog.File
	if err := json.Unmarshal(demoCatalog, &f); err != nil {
		return nil, fmt.Errorf("demo catalog: %w", err)
	}
	return &f, nil
}

// demoHashes are the demo users' password hashes, made once per process
// (a hash takes a tenth of a second, and the tests seed many databases).
var demoHashes = sync.OnceValue(func() [2]string {
	return [2]string{access.HashPassword(DemoAdminPassword), access.HashPassword(DemoBillingPassword)}
})

// SeedDemo creates the demo organization, its connections and the demo
// catalog unless they exist. It is idempotent: a second run changes
// nothing. A demo connection seeded before connections had allow-lists
// gets its list; one whose list an admin has set keeps it.
func SeedDemo(ctx context.Context, a *App) error {
	if _, err := a.Organizations.Get(ctx, DemoOrganizationID); errs.Is(err, errs.NotFound) {
		o := &organization.Organization{ID: DemoOrganizationID, Name: "Demo Corp", POMode: organization.POModeProcurementSystem}
		if err := a.Organizations.Create(ctx, o); err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
	} else if err != nil {
		return err
	}
	for _, c := range DemoConnections() {
		if have, err := a.Connections.Get(ctx, c.ID); err == nil {
			if len(have.AllowedFormPostHosts) == 0 {
				hosts := c.AllowedFormPostHosts
				if _, err := a.Connections.Update(ctx, c.ID, &punchout.ConnectionChange{AllowedFormPostHosts: &hosts}); err != nil {
					return fmt.Errorf("allow-list of %s: %w", c.ID, err)
				}
			}
			continue
		} else if !errs.Is(err, errs.NotFound) {
			return err
		}
		if err := a.Connections.Create(ctx, &c); err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
	}
	hashes := demoHashes()
	for _, u := range []access.NewUser{
		{Email: DemoAdminEmail, Name: "Dana Admin", OrganizationID: DemoOrganizationID, Role: string(access.Admin), PasswordHash: hashes[0]},
		{Email: DemoBillingEmail, Name: "Bill Billing", OrganizationID: DemoOrganizationID, Role: string(access.Billing), PasswordHash: hashes[1]},
	} {
		if _, err := a.Users.ByEmail(ctx, u.Email); err == nil {
			continue
		}
		if _, err := a.Users.Create(ctx, access.System, u); err != nil && !errs.Is(err, errs.Conflict) {
			return fmt.Errorf("demo user %s: %w", u.Email, err)
		}
	}
	f, err := DemoCatalog()
	if err != nil {
		return err
	}
	_, err = a.Catalog.Import(ctx, f)
	return err
}
