package app

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/cxmlgate/punchout/catalog"
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
			BuyerCredential:     punchout.Credential{Domain: "NetworkId", Identity: "AN01000000001-T"},
			SupplierCredential:  punchout.Credential{Domain: "NetworkId", Identity: "AN01000000002-T"},
			SenderCredential:    punchout.Credential{Domain: "AribaNetworkUserId", Identity: "sysadmin@ariba.com"},
			SharedSecret:        DemoAribaSecret,
			FormPostField:       punchout.FieldBase64,
			AutoApproveFreeBYOL: true,
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

// SeedDemo creates the demo organization, its connections and the demo
// catalog unless they exist. It is idempotent: a second run changes
// nothing.
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
	f, err := DemoCatalog()
	if err != nil {
		return err
	}
	_, err = a.Catalog.Import(ctx, f)
	return err
}
