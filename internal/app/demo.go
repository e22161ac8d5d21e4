package app

import (
	"context"

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
)

// DemoConnections are the demo organization's two connections, as an
// admin would create them.
func DemoConnections() []punchout.Connection {
	return []punchout.Connection{
		{
			ID: DemoCoupaID, OrganizationID: DemoOrganizationID, Name: "Demo Corp Coupa", System: punchout.Coupa,
			BuyerCredential:    punchout.Credential{Domain: "NetworkID", Identity: "DemoCorpCoupa"},
			SupplierCredential: punchout.Credential{Domain: "DUNS", Identity: "081254817"},
			SharedSecret:       DemoCoupaSecret,
			FormPostField:      punchout.FieldURLEncoded,
		},
		{
			ID: DemoAribaID, OrganizationID: DemoOrganizationID, Name: "Demo Corp SAP Ariba", System: punchout.Ariba,
			BuyerCredential:    punchout.Credential{Domain: "NetworkId", Identity: "AN01000000001-T"},
			SupplierCredential: punchout.Credential{Domain: "NetworkId", Identity: "AN01000000002-T"},
			SenderCredential:   punchout.Credential{Domain: "AribaNetworkUserId", Identity: "sysadmin@ariba.com"},
			SharedSecret:       DemoAribaSecret,
			FormPostField:      punchout.FieldBase64,
		},
	}
}

// SeedDemo creates the demo organization and its connections unless they
// exist. It is idempotent: a second run changes nothing.
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
		if _, err := a.Connections.Get(ctx, c.ID); err == nil {
			continue
		} else if !errs.Is(err, errs.NotFound) {
			return err
		}
		if err := a.Connections.Create(ctx, &c); err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
	}
	return nil
}
