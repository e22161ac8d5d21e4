package cxml

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleKinds names the body of every sample in the conformance folder. A
// sample missing here fails TestParseSamples, so a new one cannot be
// skipped silently.
var sampleKinds = map[string]string{
	"ariba_orderrequest_1.xml":               "OrderRequest",
	"ariba_profilerequest_1.xml":             "ProfileRequest",
	"ariba_punchoutsetuprequest_1.xml":       "PunchOutSetupRequest",
	"ariba_punchoutsetuprequest_2.xml":       "PunchOutSetupRequest",
	"ariba_statusupdaterequest_1.xml":        "StatusUpdateRequest",
	"birchstreet_punchoutsetuprequest_1.xml": "PunchOutSetupRequest",
	"chefworks_punchoutordermessage_1.xml":   "PunchOutOrderMessage",
	"coupa_invoicedetailrequest_1.xml":       "InvoiceDetailRequest",
	"coupa_invoicedetailrequest_2.xml":       "InvoiceDetailRequest",
	"coupa_invoicedetailrequest_3.xml":       "InvoiceDetailRequest",
	"coupa_invoicedetailrequest_4.xml":       "InvoiceDetailRequest",
	"coupa_invoicedetailrequest_5.xml":       "InvoiceDetailRequest",
	"coupa_invoicedetailrequest_6.xml":       "InvoiceDetailRequest",
	"coupa_invoicedetailrequest_7.xml":       "InvoiceDetailRequest",
	"coupa_orderrequest_1.xml":               "OrderRequest",
	"coupa_orderrequest_2.xml":               "OrderRequest",
	"coupa_punchoutsetuprequest_1.xml":       "PunchOutSetupRequest",
	"coupa_punchoutsetuprequest_2.xml":       "PunchOutSetupRequest",
	"coupa_punchoutsetuprequest_3.xml":       "PunchOutSetupRequest",
	"cxmlguide_punchoutordermessage_1.xml":   "PunchOutOrderMessage",
	"cxmlguide_punchoutsetupresponse_1.xml":  "PunchOutSetupResponse",
	"generic_orderrequest_1.xml":             "OrderRequest",
	"generic_profilerequest_1.xml":           "ProfileRequest",
	"generic_profileresponse_1.xml":          "ProfileResponse",
	"generic_punchoutordermessage_1.xml":     "PunchOutOrderMessage",
	"generic_punchoutordermessage_2.xml":     "PunchOutOrderMessage",
	"generic_punchoutsetuprequest_1.xml":     "PunchOutSetupRequest",
	"generic_punchoutsetupresponse_1.xml":    "PunchOutSetupResponse",
	"generic_response_400_1.xml":             "Response",
	"generic_response_401_1.xml":             "Response",
	"generic_response_450_1.xml":             "Response",
	"iesa_punchoutordermessage_1.xml":        "PunchOutOrderMessage",
	"iesa_punchoutsetuprequest_1.xml":        "PunchOutSetupRequest",
	"officedepot_confirmationrequest_1.xml":  "ConfirmationRequest",
}

func TestParseSamples(t *testing.T) {
	names := sampleNames(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, ok := sampleKinds[name]
			require.True(t, ok, "sample %s has no expected kind in sampleKinds", name)
			d := parseSample(t, name)
			assert.Equal(t, want, d.Kind())
			assert.NotEmpty(t, d.PayloadID)
			assert.NotNil(t, d.Source)
		})
	}
	for name := range sampleKinds {
		assert.Contains(t, names, name, "sampleKinds names a sample that is not in the folder")
	}
}

func TestParsePunchOutSetupRequestSamples(t *testing.T) {
	coupaUser := map[string]string{"FirstName": "Delaina", "LastName": "Beaman", "UniqueName": "203140",
		"UserEmail": "Delaina_Beaman@carmax.com", "User": "203140", "BusinessUnit": "COUPA"}
	tests := []struct {
		file          string
		operation     string
		cookie        string
		formPost      string
		supplierSetup string
		extrinsics    map[string]string
		endUserEmail  string
		shipToCity    string
		items         int
	}{
		{file: "coupa_punchoutsetuprequest_1.xml", operation: "create", cookie: "c64af92dc27e68172e030d3dfd1bc944",
			// Contact comes before BrowserFormPost here, which the DTD forbids; both are read.
			formPost:     "https://qa.coupahost.com/punchout/checkout/4",
			extrinsics:   map[string]string{"FirstName": "Jim", "LastName": "Halpert", "UniqueName": "jim", "UserEmail": "noah+jim@coupa.com", "User": "jim", "BusinessUnit": "COUPA"},
			endUserEmail: "noah+jim@coupa.com"},
		{file: "coupa_punchoutsetuprequest_2.xml", operation: "create", cookie: "99df85a3c958a552b26ba6dc04a9242f",
			formPost: "https://carmax.coupahost.com/punchout/checkout?id=27", supplierSetup: "https://customers.web.middleware.tirehub.com/Punchout/setup",
			extrinsics: coupaUser, endUserEmail: "Delaina_Beaman@carmax.com", shipToCity: "White Marsh"},
		{file: "coupa_punchoutsetuprequest_3.xml", operation: "create", cookie: "99ea3c4c8cf9f6dc905a6b6772daa0d1",
			formPost: "https://mwilczek-demo.coupacloud.com/punchout/checkout?id=2", supplierSetup: "https://uttest.free.beeceptor.com",
			extrinsics: map[string]string{"FirstName": "Mary Anne", "BusinessUnit": "COUPA"}, endUserEmail: "maryanne.krzeminski@coupa.com"},
		{file: "iesa_punchoutsetuprequest_1.xml", operation: "create", cookie: "demoSCAWIGP",
			// The URLs are wrapped in newlines and spaces.
			formPost: "http://return_to_supplier_url.com", supplierSetup: "http://localhost:3000", shipToCity: "san leandro"},
		{file: "generic_punchoutsetuprequest_1.xml", operation: "create", cookie: "buyer1234", formPost: "https://example.com/punchout_return",
			extrinsics: map[string]string{"ReturnFrame": "_returnFrame"}, endUserEmail: "1234@remotehost", shipToCity: "Metropolis"},
		{file: "birchstreet_punchoutsetuprequest_1.xml", operation: "create", cookie: "x-yz-2016-16-34-19-286-BABABUBAM",
			formPost: "https://example.com/receive-itemsp-unchout"},
		{file: "ariba_punchoutsetuprequest_1.xml", operation: "create", cookie: "550bce3e592023b2e7b015307f965133",
			formPost: "https://prominate-platform.com/hook-url", supplierSetup: "http://workchairs.com/cxml",
			extrinsics: map[string]string{"UserEmail": "john-doe@domain.com"}, shipToCity: "Sunnyvale", items: 2},
		{file: "ariba_punchoutsetuprequest_2.xml", operation: "create", cookie: "3xx1vu5dn5sttwrc2zqspprl",
			formPost:   "http://localhost/InsiteOnline/shopredirect.aspx?PUNOUT=YES",
			extrinsics: map[string]string{"UniqueName": "ROVENSKY,VITALY", "UserEmail": "vitaly.rovensky@sdi.com", "CostCenter": "I0256"}, shipToCity: "Charlotte"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := requestBody[*PunchOutSetupRequest](t, parseSample(t, tc.file))
			assert.Equal(t, tc.operation, p.Operation)
			assert.Equal(t, tc.cookie, p.BuyerCookie)
			assert.Equal(t, tc.formPost, p.BrowserFormPostURL)
			assert.Equal(t, tc.supplierSetup, p.SupplierSetupURL)
			for name, want := range tc.extrinsics {
				assert.Equal(t, want, ExtrinsicValue(p.Extrinsics, name), "Extrinsic %s", name)
			}
			for _, x := range p.Extrinsics {
				assert.NotNil(t, x.Element, "Extrinsic %s keeps its element", x.Name)
			}
			if tc.endUserEmail != "" {
				c, ok := p.EndUser()
				require.True(t, ok)
				assert.Equal(t, tc.endUserEmail, c.Email)
			}
			if tc.shipToCity == "" {
				assert.Nil(t, p.ShipTo)
			} else {
				require.NotNil(t, p.ShipTo)
				assert.Equal(t, tc.shipToCity, p.ShipTo.City)
				assert.NotNil(t, p.ShipTo.Source)
			}
			assert.Len(t, p.ItemOut, tc.items)
			assert.NotNil(t, p.Source)
		})
	}

	t.Run("ship to details", func(t *testing.T) {
		p := requestBody[*PunchOutSetupRequest](t, parseSample(t, "coupa_punchoutsetuprequest_2.xml"))
		a := p.ShipTo
		assert.Equal(t, "171210", a.AddressID)
		assert.Equal(t, "US", a.ISOCountryCode)
		assert.Equal(t, "CarMax", a.Name)
		assert.Equal(t, "en", a.Lang)
		assert.Equal(t, []string{"Delaina Beaman"}, a.DeliverTo)
		assert.Equal(t, []string{"10201 Philadelphia Rd", "CarMax Auto Superstores Inc"}, a.Street)
		assert.Equal(t, "MD", a.State)
		assert.Equal(t, "21162-3401", a.Postal)
		assert.Equal(t, "US", a.Country)
		assert.Equal(t, "United States", a.CountryName)
		assert.Equal(t, "Delaina_Beaman@carmax.com", a.Email)
		require.NotNil(t, a.Phone)
		assert.Equal(t, Phone{Name: "default", CountryCode: "1", ISOCountryCode: "US", AreaOrCityCode: "410", Number: "9316500"}, *a.Phone)
		assert.Equal(t, "+1 410 9316500", a.Phone.String())
	})

	t.Run("contact phone", func(t *testing.T) {
		p := requestBody[*PunchOutSetupRequest](t, parseSample(t, "generic_punchoutsetuprequest_1.xml"))
		c, ok := p.EndUser()
		require.True(t, ok)
		assert.Equal(t, "John Smith", c.Name)
		assert.Equal(t, "en-US", c.Lang)
		assert.Equal(t, "+1 888 5551212", c.Phone.String())
		assert.Equal(t, "+1 888 5551212 x8888", p.ShipTo.Phone.String())
	})

	t.Run("selected item and lines of a level-2 request", func(t *testing.T) {
		p := requestBody[*PunchOutSetupRequest](t, parseSample(t, "ariba_punchoutsetuprequest_1.xml"))
		require.NotNil(t, p.SelectedItem)
		assert.Equal(t, ItemID{SupplierPartID: "4545321", BuyerPartID: "II99825"}, *p.SelectedItem)
		first := p.ItemOut[0]
		assert.Equal(t, "2", first.Quantity.String())
		assert.Equal(t, 10, first.LineNumber)
		assert.Equal(t, "2023-01-23T16:00:06-01:00", first.RequestedDeliveryDate)
		assert.Equal(t, "5555", first.ItemID.SupplierPartID)
		require.NotNil(t, first.ItemDetail)
		assert.Equal(t, "763.20", first.ItemDetail.UnitPrice.String())
		assert.Equal(t, "EUR", first.ItemDetail.UnitPrice.Currency)
		assert.Equal(t, Description{Lang: "en", ShortName: "Excelsior Desk Chair"}, first.ItemDetail.Descriptions[0])
		assert.Equal(t, []Classification{{Domain: "UNSPSC", Value: "ean1234"}}, first.ItemDetail.Classifications)
		assert.Equal(t, 20, p.ItemOut[1].LineNumber)
	})
}

func TestParsePunchOutOrderMessageSamples(t *testing.T) {
	tests := []struct {
		file      string
		cookie    string
		operation string
		total     string
		currency  string
		items     int
	}{
		{"cxmlguide_punchoutordermessage_1.xml", "1CX3L4843PPZO", "edit", "763.20", "USD", 2},
		{"generic_punchoutordermessage_1.xml", "12345678", "create", "524.93", "CAD", 3},
		{"generic_punchoutordermessage_2.xml", "12345678", "create", "12.99", "CAD", 0},
		{"chefworks_punchoutordermessage_1.xml", "4-20-2016-16-34-19-286-CYCHICOGM", "edit", "30.94", "USD", 1},
		// Lower-case <cxml> root, BuyerCookie wrapped in newlines, no items.
		{"iesa_punchoutordermessage_1.xml", "example_buyer_cookie", "create", "5.35", "GBP", 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			d := parseSample(t, tc.file)
			require.NotNil(t, d.Message)
			p, ok := d.Message.Body.(*PunchOutOrderMessage)
			require.True(t, ok)
			assert.Equal(t, tc.cookie, p.BuyerCookie)
			assert.Equal(t, tc.operation, p.OperationAllowed)
			assert.Equal(t, tc.total, p.Total.String())
			assert.Equal(t, tc.currency, p.Total.Currency)
			assert.Len(t, p.Items, tc.items)
			for _, it := range p.Items {
				assert.NotNil(t, it.Source)
			}
		})
	}

	t.Run("mixed-content description, auxiliary ID, lead time", func(t *testing.T) {
		p := parseSample(t, "cxmlguide_punchoutordermessage_1.xml").Message.Body.(*PunchOutOrderMessage)
		it := p.Items[0]
		assert.Equal(t, "E000028901", it.ItemID.SupplierPartAuxiliaryID)
		assert.Equal(t, Description{Lang: "en", Text: "Leather Reclining Desk Chair with Padded Arms", ShortName: "Excelsior Desk Chair"}, it.ItemDetail.Descriptions[0])
		assert.Equal(t, "Excelsior Desk Chair", it.ItemDetail.Descriptions[0].ShortName)
		assert.Equal(t, []Classification{{Domain: "UNSPSC", Value: "5136030000"}}, it.ItemDetail.Classifications)
		assert.Equal(t, "12", it.ItemDetail.LeadTime)
		assert.Equal(t, "2", p.Items[1].Quantity.String())
	})

	t.Run("header shipping and tax, line attributes and passthrough", func(t *testing.T) {
		p := parseSample(t, "generic_punchoutordermessage_1.xml").Message.Body.(*PunchOutOrderMessage)
		assert.Equal(t, "pending", p.QuoteStatus)
		require.NotNil(t, p.ShipTo)
		assert.Equal(t, "Metropolis", p.ShipTo.City)
		require.NotNil(t, p.Shipping)
		assert.Equal(t, "0.02", p.Shipping.Money.String())
		assert.Equal(t, Description{Lang: "fr-CA", Text: "Shipping for the whole thing"}, p.Shipping.Description)
		require.NotNil(t, p.Tax)
		assert.Equal(t, "0.05", p.Tax.Money.String())
		it := p.Items[0]
		assert.Equal(t, 1, it.LineNumber)
		assert.Equal(t, "Gildan", it.ItemDetail.ManufacturerName)
		assert.Equal(t, "2000", it.ItemDetail.ManufacturerPartID)
		assert.Equal(t, "https://example.com/products/2000", it.ItemDetail.URL)
		var keys []string
		for _, a := range it.Attrs {
			keys = append(keys, a.Key)
		}
		assert.Equal(t, []string{"openQuantity", "promisedQuantity", "parentLineNumber", "itemType", "compositeItemType", "itemClassification"}, keys)
		var tags []string
		for _, x := range it.Passthrough {
			tags = append(tags, x.Tag)
		}
		assert.Equal(t, []string{"Shipping", "Tax"}, tags)
		assert.Equal(t, "HUR", p.Items[2].ItemDetail.UnitOfMeasure)
	})

	t.Run("message status", func(t *testing.T) {
		d := parseSample(t, "generic_punchoutordermessage_2.xml")
		require.NotNil(t, d.Message.Status)
		assert.Equal(t, Status{Code: 201, Text: "Accepted", Detail: "We're all set", Lang: "en-US"}, *d.Message.Status)
		assert.Equal(t, "123.olderMessage", d.Message.InReplyTo)
	})
}

func TestParseOrderRequestSamples(t *testing.T) {
	tests := []struct {
		file     string
		orderID  string
		total    string
		currency string
		items    []string // quantity of each line
		billTo   string
	}{
		{"coupa_orderrequest_1.xml", "6112", "1505.00", "USD", []string{"1", "2"}, "SOB1"},
		{"coupa_orderrequest_2.xml", "3309", "91.71", "USD", []string{"1", "9"}, "Network"},
		{"generic_orderrequest_1.xml", "DO1234", "85.00", "EUR", []string{"10", "20"}, "Zinc GmbH"},
		{"ariba_orderrequest_1.xml", "acme-1-1", "10.00", "USD", []string{"1"}, "TEST.USA ACME"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			o := requestBody[*OrderRequest](t, parseSample(t, tc.file))
			assert.Equal(t, tc.orderID, o.OrderID)
			assert.Equal(t, OrderNew, o.Type)
			assert.True(t, o.OrderDate.Valid)
			assert.Equal(t, tc.total, o.Total.String())
			assert.Equal(t, tc.currency, o.Total.Currency)
			require.NotNil(t, o.BillTo)
			assert.Equal(t, tc.billTo, o.BillTo.Name)
			require.Len(t, o.Items, len(tc.items))
			for i, q := range tc.items {
				assert.Equal(t, q, o.Items[i].Quantity.String())
				assert.Equal(t, i+1, o.Items[i].LineNumber)
				assert.NotNil(t, o.Items[i].Source)
				assert.NotNil(t, o.Items[i].ItemDetail)
			}
		})
	}

	t.Run("coupa extrinsics, shipping, contact", func(t *testing.T) {
		o := requestBody[*OrderRequest](t, parseSample(t, "coupa_orderrequest_2.xml"))
		require.Len(t, o.Extrinsics, 1)
		assert.Equal(t, Extrinsic{Name: "legacy_po", Value: "", Element: o.Extrinsics[0].Element}, o.Extrinsics[0])
		require.NotNil(t, o.Shipping)
		assert.Equal(t, "0.00", o.Shipping.Money.String())
		assert.Equal(t, "en-US", o.Shipping.Description.Lang)
		require.Len(t, o.Contacts, 1)
		assert.Equal(t, Contact{Role: "endUser", Name: "alksdjfalskjf alk sdjflkj", Lang: "en", Email: "asdlfkjasdflkj@optisconsulting.com", Source: o.Contacts[0].Source}, o.Contacts[0])
		it := o.Items[0]
		assert.Equal(t, ItemID{SupplierPartID: "product:1861", SupplierPartAuxiliaryID: "product-requisition:6236"}, it.ItemID)
		assert.Equal(t, "8.10", it.ItemDetail.UnitPrice.String())
		assert.Equal(t, "Quantity", ExtrinsicValue(it.ItemDetail.Extrinsics, "LineType"))
		assert.Equal(t, []Classification{{Domain: "UNSPSC", Value: "unknown"}}, it.ItemDetail.Classifications)
		assert.Equal(t, "9.29", o.Items[1].ItemDetail.UnitPrice.String())
	})

	t.Run("coupa annotated: comments, backslash in auxiliary ID", func(t *testing.T) {
		d := parseSample(t, "coupa_orderrequest_1.xml")
		o := requestBody[*OrderRequest](t, d)
		assert.Equal(t, "header comment goes here if entered by user", o.Comments)
		assert.Equal(t, `1005379527029\1`, o.Items[0].ItemID.SupplierPartAuxiliaryID)
		assert.Equal(t, "jmadden", o.ShipTo.Name)
		assert.Equal(t, "3119", o.ShipTo.AddressID)
		// Mixed-case domains and a Sender without a secret.
		assert.True(t, d.Header.From.Credentials[0].Matches("DUNS", "dell"))
		assert.True(t, d.Header.To.Credentials[0].Matches("duns", "128293714"))
		assert.Empty(t, d.Header.Sender.Credentials[0].SharedSecret)
	})

	t.Run("requested delivery date, phone", func(t *testing.T) {
		o := requestBody[*OrderRequest](t, parseSample(t, "generic_orderrequest_1.xml"))
		assert.Equal(t, "2020-02-28T00:00:00+00:00", o.Items[0].RequestedDeliveryDate)
		assert.Equal(t, "DE", o.BillTo.Country)
		assert.Equal(t, "+49 761 1234567", o.BillTo.Phone.String())
		assert.Equal(t, []Classification{{Domain: "custom", Value: "0"}}, o.Items[1].ItemDetail.Classifications)
	})
}

func TestParseConfirmationRequestSample(t *testing.T) {
	d := parseSample(t, "officedepot_confirmationrequest_1.xml")
	assert.Equal(t, DTDFulfill, d.DTD())
	c := requestBody[*ConfirmationRequest](t, d)
	assert.Equal(t, "detail", c.Header.Type)
	assert.Equal(t, "new", c.Header.Operation)
	assert.Equal(t, "", c.Header.ConfirmID)
	assert.Equal(t, "623612976001", c.Header.InvoiceID)
	assert.Equal(t, time.Date(2012, 9, 4, 7, 37, 49, 0, time.UTC), c.Header.NoticeDate.Time.UTC())
	require.Len(t, c.Header.Contacts, 1)
	assert.Equal(t, "shipTo", c.Header.Contacts[0].Role)
	assert.Equal(t, "0170-74629-00", c.Header.Contacts[0].AddressID)
	assert.Equal(t, "HOSPITAL BUILDING", c.Header.Contacts[0].Name)
	assert.Equal(t, OrderReference{OrderID: "400-2591453-0", DocumentReference: "20120904023747.cXMLPurchaseOrder.984556224@eprosvcs.com", OrderDate: Timestamp{}}, c.OrderReference)
	require.Len(t, c.Items, 3)
	want := []struct {
		line       int
		qty, uom   string
		price      string
		extrinsics int
	}{{1, "20", "RM", "4.44", 2}, {2, "12", "BX", "1.52", 2}, {3, "2", "EA", "4.14", 1}}
	for i, w := range want {
		it := c.Items[i]
		assert.Equal(t, w.line, it.LineNumber)
		assert.Equal(t, w.qty, it.Quantity.String())
		assert.Equal(t, w.uom, it.UnitOfMeasure)
		require.Len(t, it.Statuses, 1)
		s := it.Statuses[0]
		assert.Equal(t, "accept", s.Type)
		assert.Equal(t, w.qty, s.Quantity.String())
		assert.Equal(t, w.uom, s.UnitOfMeasure)
		require.NotNil(t, s.UnitPrice)
		assert.Equal(t, w.price, s.UnitPrice.String())
		assert.True(t, s.ShipmentDate.Valid)
		assert.Len(t, s.Extrinsics, w.extrinsics)
	}
	// The misspelt extrinsic name is kept as sent.
	assert.Equal(t, "751441", ExtrinsicValue(c.Items[0].Statuses[0].Extrinsics, "SupplierPartAuxilliaryID"))
}

func TestParseInvoiceDetailRequestSamples(t *testing.T) {
	type line struct {
		number   int
		service  bool
		qty      string
		subtotal string
	}
	tests := []struct {
		file      string
		invoiceID string
		orderRefs []string // DocumentReference payloadID per order: the PO or contract number at Coupa
		contract  []bool
		lines     []line
		subtotal  string
		tax       string
		net       string // "" for an empty Money
		taxInLine bool
		terms     int
	}{
		{"coupa_invoicedetailrequest_1.xml", "3495", []string{"123"}, []bool{false}, []line{{1, false, "1", "365.00"}}, "365.00", "8.00", "", true, 30},
		{"coupa_invoicedetailrequest_2.xml", "3492", []string{"123"}, []bool{false}, []line{{1, false, "1", "365.00"}}, "365.00", "8.00", "", false, 30},
		{"coupa_invoicedetailrequest_3.xml", "INVOICENUMBER", []string{"E14994", "l"}, []bool{false, true},
			[]line{{1, false, "3", "200.00"}, {2, false, "2", "20.00"}}, "220.00", "0.00", "0.00", false, 30},
		{"coupa_invoicedetailrequest_4.xml", "INV00001", []string{"2252", "2253"}, []bool{false, false},
			[]line{{1, false, "2", "200.00"}, {2, false, "2", "20.00"}}, "220.00", "0.00", "0.00", false, 30},
		{"coupa_invoicedetailrequest_5.xml", "new_cxml_invoice", []string{"id"}, []bool{true}, []line{{1, false, "1", "10.00"}}, "11.30", "", "", true, 1},
		{"coupa_invoicedetailrequest_6.xml", "2650", []string{"10050"}, []bool{false}, []line{{1, true, "1", "501.36"}}, "501.36", "0.00", "501.36", false, 30},
		{"coupa_invoicedetailrequest_7.xml", "735675n3", []string{"2257"}, []bool{true}, []line{{1, false, "1", "365.00"}}, "365.00", "8.00", "", false, 30},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			d := parseSample(t, tc.file)
			assert.Equal(t, DTDInvoiceDetail, d.DTD())
			r := requestBody[*InvoiceDetailRequest](t, d)
			h := r.Header
			assert.Equal(t, tc.invoiceID, h.InvoiceID)
			assert.Equal(t, InvoiceStandard, h.Purpose)
			assert.Equal(t, "new", h.Operation)
			assert.Equal(t, tc.taxInLine, h.LineIndicator.IsTaxInLine)
			require.Len(t, h.PaymentTerms, 1)
			assert.Equal(t, tc.terms, h.PaymentTerms[0].PayInNumberOfDays)
			require.Len(t, r.Orders, len(tc.orderRefs))
			var got []line
			for i, o := range r.Orders {
				if tc.contract[i] {
					require.NotNil(t, o.MasterAgreementReference)
					assert.Equal(t, tc.orderRefs[i], o.MasterAgreementReference.DocumentReference)
				} else {
					require.NotNil(t, o.OrderReference)
					assert.Equal(t, tc.orderRefs[i], o.OrderReference.DocumentReference)
				}
				for _, it := range o.Items {
					require.NotNil(t, it.SubtotalAmount)
					got = append(got, line{it.InvoiceLineNumber, false, it.Quantity.String(), it.SubtotalAmount.String()})
				}
				for _, it := range o.ServiceItems {
					got = append(got, line{it.InvoiceLineNumber, true, it.Quantity.Decimal.String(), it.SubtotalAmount.String()})
				}
			}
			assert.Equal(t, tc.lines, got)
			s := r.Summary
			assert.Equal(t, tc.subtotal, s.SubtotalAmount.String())
			assert.Equal(t, tc.tax, s.Tax.Money.String())
			assert.NotEmpty(t, s.Tax.Description.Text)
			assert.Equal(t, tc.net, s.NetAmount.String())
			assert.Equal(t, tc.net == "", s.NetAmount.Empty, "an empty <Money/> reads as Empty")
		})
	}

	t.Run("line tax detail", func(t *testing.T) {
		r := requestBody[*InvoiceDetailRequest](t, parseSample(t, "coupa_invoicedetailrequest_1.xml"))
		it := r.Orders[0].Items[0]
		assert.Equal(t, "EA", it.UnitOfMeasure)
		assert.Equal(t, "365.00", it.UnitPrice.String())
		assert.Equal(t, 1, it.Reference.LineNumber)
		assert.Equal(t, "NEW 1 NINTENDO WII GAME CONSOLE + WII FIT BUNDLE +GAMES", it.Reference.Description.Text)
		require.NotNil(t, it.Tax)
		require.Len(t, it.Tax.Details, 1)
		td := it.Tax.Details[0]
		assert.Equal(t, "tax", td.Purpose)
		assert.Equal(t, "CA", td.Category)
		assert.Equal(t, "8.25", td.PercentageRate.Decimal.String())
		assert.Equal(t, "365.00", td.TaxableAmount.String())
		assert.Equal(t, "8.00", td.TaxAmount.String())
		assert.Equal(t, "CA", td.Location)
		assert.True(t, td.TaxPointDate.Valid)
		require.NotNil(t, r.Summary.SpecialHandlingAmount)
		assert.Equal(t, "5.00", r.Summary.SpecialHandlingAmount.String())
		assert.Equal(t, "30.00", r.Summary.ShippingAmount.String())
	})

	t.Run("partners, header extrinsic, placeholders", func(t *testing.T) {
		r := requestBody[*InvoiceDetailRequest](t, parseSample(t, "coupa_invoicedetailrequest_5.xml"))
		h := r.Header
		var roles []string
		for _, p := range h.Partners {
			roles = append(roles, p.Contact.Role)
		}
		assert.Equal(t, []string{"invoiceFrom", "remitTo", "billTo"}, roles)
		assert.Equal(t, []IDReference{{Domain: "taxNumber", Identifier: "supplier_tax_registration"}}, h.Partners[0].IDReferences)
		assert.Equal(t, "1", ExtrinsicValue(h.Extrinsics, "ExchangeRate"))
		// invoiceDate="invoice_date" is read, not refused.
		assert.False(t, h.InvoiceDate.Valid)
		assert.Equal(t, "invoice_date", h.InvoiceDate.Raw)
		it := r.Orders[0].Items[0]
		assert.Equal(t, "part-id", it.Reference.ItemID.SupplierPartID)
		assert.Equal(t, "HSN/SAC value", ExtrinsicValue(it.Extrinsics, "HSN/SAC"))
		assert.Equal(t, "1.30", it.Tax.Money.String())
		assert.Len(t, r.Summary.Tax.Details, 5)
		assert.Equal(t, "9.975", r.Summary.Tax.Details[4].PercentageRate.Decimal.String())
		assert.True(t, r.Summary.Tax.Money.Empty)
		require.NotNil(t, r.Summary.Discount)
		assert.Equal(t, "123.00", r.Summary.Discount.String())
	})

	t.Run("service line and deprecated payment term", func(t *testing.T) {
		r := requestBody[*InvoiceDetailRequest](t, parseSample(t, "coupa_invoicedetailrequest_6.xml"))
		it := r.Orders[0].ServiceItems[0]
		assert.Equal(t, 1, it.InvoiceLineNumber, `invoiceLineNumber="00001"`)
		assert.Equal(t, 1, it.Reference.LineNumber)
		assert.Equal(t, "HUR", it.UnitOfMeasure)
		require.NotNil(t, it.UnitPrice)
		assert.Equal(t, "501.36", it.UnitPrice.String())
		assert.Equal(t, "501.36", r.Summary.GrossAmount.String())
		assert.Equal(t, "501.36", r.Summary.DueAmount.String())
	})
}

func TestParseStatusUpdateRequestSample(t *testing.T) {
	d := parseSample(t, "ariba_statusupdaterequest_1.xml")
	s := requestBody[*StatusUpdateRequest](t, d)
	assert.Equal(t, "0c300508b7863dcclb_14999", s.DocumentReference)
	assert.Equal(t, Status{Code: 200, Text: "OK", Detail: "Forwarded to supplier", Lang: "en-US"}, s.Status)
	assert.Equal(t, "Supplier\u2019s Super Order Processor", d.Header.Sender.UserAgent)
	assert.Nil(t, s.InvoiceStatus)
}

func TestParseInvoiceStatus(t *testing.T) {
	doc := []byte(`<cXML payloadID="st-1@AN01000000001-T.ariba.com" timestamp="2026-12-01T10:00:00-08:00">
  <Header><From><Credential domain="NetworkId"><Identity>AN1</Identity></Credential></From>
    <To><Credential domain="NetworkId"><Identity>AN2</Identity></Credential></To>
    <Sender><Credential domain="NetworkId"><Identity>AN1</Identity></Credential><UserAgent>Ariba Network 1.2</UserAgent></Sender></Header>
  <Request><StatusUpdateRequest>
    <DocumentReference payloadID="inv-payload@supplier"/>
    <Status code="200" text="OK" xml:lang="en-US">Invoice paid</Status>
    <InvoiceStatus type="paid" paymentNetDueDate="2026-12-31T00:00:00-08:00">
      <InvoiceIDInfo invoiceID=" inv_42 " invoiceDate="2026-11-30"/>
      <PartialAmount><Money currency="usd">30.00</Money></PartialAmount>
      <Comments xml:lang="en-US">
        Paid in part
      </Comments>
      <Comments xml:lang="en-US"/>
      <Comments xml:lang="de">Teilweise bezahlt</Comments>
    </InvoiceStatus>
  </StatusUpdateRequest></Request>
</cXML>`)
	d, err := Parse(doc, Limits{})
	require.NoError(t, err)
	s := requestBody[*StatusUpdateRequest](t, d)
	assert.Equal(t, "inv-payload@supplier", s.DocumentReference)
	assert.Equal(t, "Invoice paid", s.Status.Detail)
	require.NotNil(t, s.InvoiceStatus)
	is := s.InvoiceStatus
	assert.Equal(t, InvoicePaid, is.Type)
	assert.True(t, ValidInvoiceStatusType(is.Type))
	assert.Equal(t, "inv_42", is.InvoiceID)
	assert.True(t, is.InvoiceDate.Valid)
	assert.True(t, is.PaymentNetDueDate.Valid)
	require.NotNil(t, is.PartialAmount)
	assert.Equal(t, "USD", is.PartialAmount.Currency)
	assert.Equal(t, "30.00", is.PartialAmount.String())
	assert.Equal(t, []string{"Paid in part", "Teilweise bezahlt"}, is.Comments)
	assert.False(t, ValidInvoiceStatusType("approved"))
}

func TestParseResponseSamples(t *testing.T) {
	tests := []struct {
		file   string
		code   int
		text   string
		detail string
	}{
		{"generic_response_400_1.xml", 400, "java.lang.Exception: missing required parameter 'document'", ""},
		{"generic_response_401_1.xml", 401, "Unauthorized", "Invalid sender."},
		{"generic_response_450_1.xml", 450, "Not Implemented", "Type 'PunchOutSetup' is not implemented."},
		{"cxmlguide_punchoutsetupresponse_1.xml", 200, "success", ""},
		{"generic_punchoutsetupresponse_1.xml", 200, "OK", ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			d := parseSample(t, tc.file)
			require.NotNil(t, d.Response)
			assert.Equal(t, tc.code, d.Response.Status.Code)
			assert.Equal(t, tc.text, d.Response.Status.Text)
			assert.Equal(t, tc.detail, d.Response.Status.Detail)
		})
	}
	r := parseSample(t, "cxmlguide_punchoutsetupresponse_1.xml").Response.Body.(*PunchOutSetupResponse)
	assert.Equal(t, "http://xml.workchairs.com/retrieve?reqUrl=20626;Initial=TRUE", r.StartPageURL)
	p := parseSample(t, "generic_profileresponse_1.xml").Response.Body.(*ProfileResponse)
	require.Len(t, p.Transactions, 2)
	assert.Equal(t, []Option{{Name: "operationAllowed", Value: "create"}}, p.Transactions[1].Options)
}

// cxmlDoc wraps a request body in an envelope with a header.
func cxmlDoc(prolog, body string) []byte {
	return []byte(prolog + `<cXML payloadID="1@test" timestamp="2024-09-21T16:34:09-04:00"><Header>` +
		`<From><Credential domain="DUNS"><Identity>b</Identity></Credential></From>` +
		`<To><Credential domain="DUNS"><Identity>s</Identity></Credential></To>` +
		`<Sender><Credential domain="DUNS"><Identity>b</Identity><SharedSecret>x</SharedSecret></Credential><UserAgent>t</UserAgent></Sender>` +
		`</Header><Request>` + body + `</Request></cXML>`)
}

func TestParseRefusesHostileInput(t *testing.T) {
	laughs := `<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY lol "lol">` +
		`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>`
	deep := "<cXML payloadID=\"1@x\" timestamp=\"2024-01-01T00:00:00Z\">" + strings.Repeat("<a>", 100_000) + strings.Repeat("</a>", 100_000) + "</cXML>"
	big := cxmlDoc("", `<ProfileRequest/>`+"<!--"+strings.Repeat("x", 4096)+"-->")
	tests := []struct {
		name   string
		body   []byte
		limits Limits
		code   int
		detail string
	}{
		{"billion laughs", cxmlDoc(laughs, `<ProfileRequest/>`), Limits{}, StatusNotAcceptable, "entity declarations"},
		{"external entity", cxmlDoc(`<!DOCTYPE cXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>`, `<ProfileRequest/>`), Limits{}, StatusNotAcceptable, "entity declarations"},
		{"internal subset", cxmlDoc(`<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd" [<!ELEMENT x ANY>]>`, `<ProfileRequest/>`), Limits{}, StatusNotAcceptable, "internal subset"},
		{"public doctype", cxmlDoc(`<!DOCTYPE cXML PUBLIC "-//cXML//DTD" "http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd">`, `<ProfileRequest/>`), Limits{}, StatusNotAcceptable, "not the standard cXML one"},
		{"file system doctype", cxmlDoc(`<!DOCTYPE cXML SYSTEM "file:///etc/passwd">`, `<ProfileRequest/>`), Limits{}, StatusNotAcceptable, "not the standard cXML one"},
		{"foreign host doctype", cxmlDoc(`<!DOCTYPE cXML SYSTEM "http://attacker.example/cXML.dtd">`, `<ProfileRequest/>`), Limits{}, StatusNotAcceptable, "not the standard cXML one"},
		{"second doctype", cxmlDoc(`<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd"><!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd">`, `<ProfileRequest/>`), Limits{}, StatusNotAcceptable, "only once"},
		{"100,000 deep", []byte(deep), Limits{}, StatusNotAcceptable, "deeper than 64"},
		{"over the size limit", big, Limits{MaxBytes: 1024}, StatusTooLarge, "1 KiB"},
		{"over the default size limit", append(cxmlDoc("", `<ProfileRequest/>`), bytes.Repeat([]byte(" "), DefaultMaxBytes)...), Limits{}, StatusTooLarge, "2 MiB"},
		{"garbage bytes", []byte{0x00, 0xff, 0xfe, 0x13, 0x37, '<', 0x80, '>'}, Limits{}, StatusNotAcceptable, "not well-formed"},
		{"text, no element", []byte("hello, is this the supplier?"), Limits{}, StatusNotAcceptable, "no root element"},
		{"cut off", cxmlDoc("", `<ProfileRequest/>`)[:120], Limits{}, StatusNotAcceptable, "cut off"},
		{"empty body", nil, Limits{}, StatusBadRequest, "empty"},
		{"white space only", []byte(" \r\n\t "), Limits{}, StatusBadRequest, "empty"},
		{"not cXML", []byte(`<html><body>hi</body></html>`), Limits{}, StatusBadRequest, "not <cXML>"},
		{"no payloadID", []byte(`<cXML timestamp="2024-01-01T00:00:00Z"><Response><Status code="200" text="OK"/></Response></cXML>`), Limits{}, StatusBadRequest, "payloadID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			d, err := Parse(tc.body, tc.limits)
			assert.Less(t, time.Since(start), 2*time.Second, "refusing must be fast")
			require.Error(t, err)
			assert.Nil(t, d)
			var ce *Error
			require.True(t, errors.As(err, &ce), "error %v is not a *cxml.Error", err)
			assert.Equal(t, tc.code, ce.Code, "detail: %s", ce.Detail)
			assert.Contains(t, ce.Detail, tc.detail)
			assert.Equal(t, tc.code, ce.Status().Code)
		})
	}
}

func TestParseAcceptsRealWorldQuirks(t *testing.T) {
	latin1 := cxmlDoc(`<?xml version="1.0" encoding="ISO-8859-1"?>`,
		`<PunchOutSetupRequest operation="create"><BuyerCookie>c</BuyerCookie><Extrinsic name="FirstName">Zo`+"\xeb"+` M`+"\xfc"+`ller</Extrinsic></PunchOutSetupRequest>`)
	bom := append([]byte("\ufeff"), cxmlDoc(`<?xml version="1.0" encoding="UTF-8"?>`, `<ProfileRequest/>`)...)
	emptySubset := cxmlDoc(`<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.013/cXML.dtd"[]>`, `<ProfileRequest/>`)
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, d *Document)
	}{
		{"ISO-8859-1 with non-ASCII text", latin1, func(t *testing.T, d *Document) {
			p := requestBody[*PunchOutSetupRequest](t, d)
			assert.Equal(t, "Zoë Müller", ExtrinsicValue(p.Extrinsics, "FirstName"))
		}},
		{"UTF-8 byte order mark", bom, func(t *testing.T, d *Document) { assert.Equal(t, "ProfileRequest", d.Kind()) }},
		{"DOCTYPE with empty internal subset", emptySubset, func(t *testing.T, d *Document) { assert.Equal(t, "ProfileRequest", d.Kind()) }},
		{"lower-case root", readSample(t, "iesa_punchoutordermessage_1.xml"), func(t *testing.T, d *Document) {
			assert.Equal(t, "PunchOutOrderMessage", d.Kind())
		}},
		{"unknown request type", cxmlDoc("", `<ShipNoticeRequest><ShipNoticeHeader shipmentID="1"/></ShipNoticeRequest>`), func(t *testing.T, d *Document) {
			u := requestBody[*UnknownRequest](t, d)
			assert.Equal(t, "ShipNoticeRequest", u.Name)
		}},
		{"lower-case cxml DOCTYPE host and Custom.dtd", readSample(t, "ariba_orderrequest_1.xml"), func(t *testing.T, d *Document) {
			assert.Equal(t, "OrderRequest", d.Kind())
		}},
		{"elements out of DTD order", cxmlDoc("", `<PunchOutSetupRequest operation="edit"><ItemOut quantity="1.5"><ItemID><SupplierPartID>p</SupplierPartID></ItemID></ItemOut>`+
			`<Contact><Name xml:lang="en">n</Name></Contact><BrowserFormPost><URL> https://b.example/ </URL></BrowserFormPost><BuyerCookie>  c  </BuyerCookie></PunchOutSetupRequest>`), func(t *testing.T, d *Document) {
			p := requestBody[*PunchOutSetupRequest](t, d)
			assert.Equal(t, "c", p.BuyerCookie)
			assert.Equal(t, "https://b.example/", p.BrowserFormPostURL)
			require.Len(t, p.ItemOut, 1)
			assert.Equal(t, "1.5", p.ItemOut[0].Quantity.String(), "quantities may be fractional")
			assert.Nil(t, p.ItemOut[0].ItemDetail)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.body, Limits{})
			require.NoError(t, err)
			tc.check(t, d)
		})
	}
}

func TestParseRefusesBadAmounts(t *testing.T) {
	tests := []struct{ name, body string }{
		{"thousands separator in a unit price", `<OrderRequest><OrderRequestHeader orderID="1" orderDate="2024-01-01T00:00:00Z"><Total><Money currency="USD">1,000.00</Money></Total></OrderRequestHeader></OrderRequest>`},
		{"locale comma in a quantity", `<PunchOutSetupRequest operation="edit"><BuyerCookie>c</BuyerCookie><ItemOut quantity="1,5"><ItemID><SupplierPartID>p</SupplierPartID></ItemID></ItemOut></PunchOutSetupRequest>`},
		{"tax rate that is no number", `<InvoiceDetailRequest><InvoiceDetailRequestHeader invoiceID="1" invoiceDate="2024-01-01T00:00:00Z"/><InvoiceDetailSummary><Tax><Money currency="USD">1</Money><Description xml:lang="en"/><TaxDetail category="vat" percentageRate="20%"><TaxAmount><Money currency="USD">1</Money></TaxAmount></TaxDetail></Tax></InvoiceDetailSummary></InvoiceDetailRequest>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(cxmlDoc("", tc.body), Limits{})
			var ce *Error
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, StatusBadRequest, ce.Code)
		})
	}
}

// encodings writes a UTF-8 document in each encoding Parse decodes. doc
// must start with an XML declaration naming no encoding, whose encoding
// pseudo-attribute each form fills in.
func encodings(doc string) map[string][]byte {
	rest, ok := strings.CutPrefix(doc, `<?xml version="1.0"?>`)
	if !ok {
		panic("encodings needs a document that starts with <?xml version=\"1.0\"?>")
	}
	decl := func(enc string) string { return `<?xml version="1.0" encoding="` + enc + `"?>` + rest }
	return map[string][]byte{
		"UTF-8":                         []byte(decl("UTF-8")),
		"UTF-8 with byte order mark":    []byte("\ufeff" + decl("UTF-8")),
		"UTF-16LE with byte order mark": utf16Bytes(decl("UTF-16"), false, true),
		"UTF-16LE without":              utf16Bytes(decl("UTF-16"), false, false),
		"UTF-16BE with byte order mark": utf16Bytes(decl("UTF-16"), true, true),
		"UTF-16BE without":              utf16Bytes(decl("UTF-16"), true, false),
		"ISO-8859-1":                    latin1(decl("ISO-8859-1")),
	}
}

// TestParseDecodesEveryEncoding: a document reads the same in every
// encoding, and its tree declares what it now is, UTF-8.
func TestParseDecodesEveryEncoding(t *testing.T) {
	doc := string(cxmlDoc(`<?xml version="1.0"?>`, `<PunchOutSetupRequest operation="create"><BuyerCookie>c</BuyerCookie><Extrinsic name="FirstName">Zoë Müller</Extrinsic></PunchOutSetupRequest>`))
	want, err := Parse([]byte(doc), Limits{})
	require.NoError(t, err)
	for name, body := range encodings(doc) {
		t.Run(name, func(t *testing.T) {
			d, err := Parse(body, Limits{})
			require.NoError(t, err)
			p := requestBody[*PunchOutSetupRequest](t, d)
			assert.Equal(t, "Zoë Müller", ExtrinsicValue(p.Extrinsics, "FirstName"))
			assert.Equal(t, want.Header, d.Header)
			pi, ok := d.Source.Child[0].(*etree.ProcInst)
			require.True(t, ok, "the declaration comes first")
			assert.Equal(t, `version="1.0" encoding="UTF-8"`, pi.Inst)
			env, err := ReadEnvelope(body, Limits{})
			require.NoError(t, err)
			assert.Equal(t, want.Header, env.Header)
		})
	}
}

// TestParseRefusesMarkupInEveryEncoding: the markup checks read the
// decoded text, so that a document in another encoding cannot carry what
// a UTF-8 one may not. (Before Decode, an ASCII declaration naming UTF-16
// followed by UTF-16 text hid its entity declarations from the checks, and
// encoding/xml, which follows the declaration, read it.)
func TestParseRefusesMarkupInEveryEncoding(t *testing.T) {
	tests := []struct {
		name, prolog, detail string
	}{
		{"unused entity declaration", `<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY x "y">]>`, "entity declarations"},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>`, "entity declarations"},
		{"internal subset", `<?xml version="1.0"?><!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd" [<!ELEMENT x ANY>]>`, "internal subset"},
		{"entity declaration outside a DOCTYPE", `<?xml version="1.0"?><!ENTITY x "y">`, "entity declarations"},
		{"foreign DOCTYPE", `<?xml version="1.0"?><!DOCTYPE cXML SYSTEM "file:///etc/passwd">`, "not the standard cXML one"},
	}
	t.Run("UTF-16 after a declaration in ASCII", func(t *testing.T) {
		body := append([]byte(`<?xml version="1.0" encoding="UTF-16"?>`), utf16Bytes(string(cxmlDoc(`<!DOCTYPE cXML [<!ENTITY x "y">]>`, `<ProfileRequest/>`)), false, false)...)
		for _, read := range []func() error{
			func() error { _, err := Parse(body, Limits{}); return err },
			func() error { _, err := ReadEnvelope(body, Limits{}); return err },
		} {
			var ce *Error
			require.ErrorAs(t, read(), &ce)
			assert.Equal(t, StatusNotAcceptable, ce.Code)
		}
	})
	for _, tc := range tests {
		for name, body := range encodings(string(cxmlDoc(tc.prolog, `<ProfileRequest/>`))) {
			t.Run(tc.name+" in "+name, func(t *testing.T) {
				for _, read := range []func() error{
					func() error { _, err := Parse(body, Limits{}); return err },
					func() error { _, err := ReadEnvelope(body, Limits{}); return err },
				} {
					var ce *Error
					require.ErrorAs(t, read(), &ce)
					assert.Equal(t, StatusNotAcceptable, ce.Code)
					assert.Contains(t, ce.Detail, tc.detail)
				}
			})
		}
	}
}

// duplicateCases are documents with an attribute twice, and the element
// and attribute Parse names; envelope says ReadEnvelope sees it too.
var duplicateCases = []struct {
	name, doc, element, attr string
	envelope                 bool
}{
	{"request element", string(cxmlDoc("", `<ProfileRequest a="1" a="2"/>`)), "ProfileRequest", "a", true},
	{"two payloadIDs", `<cXML payloadID="1@x" timestamp="2024-01-01T00:00:00Z" payloadID="2@x"><Response><Status code="200" text="OK"/></Response></cXML>`, "cXML", "payloadID", true},
	{"xml:lang twice deep in the body", string(cxmlDoc("", `<ProfileRequest><x><y xml:lang="en" xml:lang="fr"/></x></ProfileRequest>`)), "y", "xml:lang", false},
	{"namespaced domain twice in the Header", strings.Replace(string(cxmlDoc("", `<ProfileRequest/>`)), `<Credential domain="DUNS">`, `<Credential p:domain="a" domain="DUNS" p:domain="b">`, 1), "Credential", "p:domain", true},
	{"twice among many, prefixed element", string(cxmlDoc("", `<ProfileRequest><q:x`+manyAttrs(40)+` a39="again"/></ProfileRequest>`)), "q:x", "a39", false},
	{"twice among many on the root", `<cXML payloadID="1@x"` + manyAttrs(40) + ` a0="0"><Response><Status code="200"/></Response></cXML>`, "cXML", "a0", true},
}

func TestParseRefusesDuplicateAttributes(t *testing.T) {
	for _, tc := range duplicateCases {
		t.Run(tc.name, func(t *testing.T) {
			want := "the document is not well-formed XML: the element <" + tc.element + "> has the attribute " + tc.attr + " twice"
			for name, fast := range map[string]func([]byte, int) (*etree.Document, bool){"fastRead": fastRead, "etree": noFastRead} {
				d, err := parse([]byte(tc.doc), Limits{}, fast)
				assert.Nil(t, d)
				var ce *Error
				require.ErrorAs(t, err, &ce, name)
				assert.Equal(t, StatusNotAcceptable, ce.Code, name)
				assert.Equal(t, want, ce.Detail, name)
			}
			_, err := ReadEnvelope([]byte(tc.doc), Limits{})
			if !tc.envelope {
				assert.NoError(t, err, "the duplicate is after the envelope")
				return
			}
			var ce *Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, StatusNotAcceptable, ce.Code)
			assert.Equal(t, want, ce.Detail)
		})
	}

	t.Run("same local name, different prefixes", func(t *testing.T) {
		for _, body := range []string{`<ProfileRequest p:a="1" q:a="2" a="3" xmlns:a="4"/>`, `<ProfileRequest` + manyAttrs(40) + ` p:a0="1"/>`} {
			_, err := Parse(cxmlDoc("", body), Limits{})
			assert.NoError(t, err)
			_, err = parse(cxmlDoc("", body), Limits{}, noFastRead)
			assert.NoError(t, err)
		}
	})
}

// headerDoc is cxmlDoc's document with more in its Header, more before its
// Request, or another Header after it.
func headerDoc(inHeader, beforeBody, afterBody string) []byte {
	doc := string(cxmlDoc("", `<ProfileRequest/>`))
	doc = strings.Replace(doc, "</Header>", inHeader+"</Header>"+beforeBody, 1)
	return []byte(strings.Replace(doc, "</Request>", "</Request>"+afterBody, 1))
}

// TestParseEnvelopeRules: the rules that let ReadEnvelope read the header
// Parse reads, before the body, in bounded memory. Parse applies them
// too, with the same code and the same text.
func TestParseEnvelopeRules(t *testing.T) {
	const header = `<Header><From><Credential domain="x"><Identity>y</Identity></Credential></From></Header>`
	// cxmlDoc's Header holds 11 elements.
	fill := func(n int) string { return strings.Repeat("<Extra/>", n) }
	cred := `<Credential domain="d"><Identity>i</Identity></Credential>`
	tests := []struct {
		name     string
		doc      []byte
		code     int
		detail   string
		envelope string // ReadEnvelope's detail where it differs
	}{
		{"two Headers", headerDoc("", header, ""), StatusBadRequest, "a cXML document carries one Header", ""},
		{"a Header after the Request", []byte(`<cXML payloadID="1@x"><Request><ProfileRequest/></Request>` + header + `</cXML>`), StatusBadRequest,
			"the Header comes after the Request; it must come first", "the request has no Header; From, To and Sender credentials are required"},
		{"a second Header after the Request", headerDoc("", "", header), StatusBadRequest, "a cXML document carries one Header", "-"},
		{"257 elements in the Header", headerDoc(fill(256-11+1), "", ""), StatusBadRequest, "the Header is too large: it holds more than 256 elements", ""},
		{"17 credentials in the From", headerDoc("<From>"+strings.Repeat(cred, 17)+"</From>", "", ""), StatusBadRequest, "the Header is too large: its From carries more than 16 credentials", ""},
		{"257 elements before the Request", headerDoc("", "<Foo>"+fill(256)+"</Foo>", ""), StatusBadRequest, "the cXML element holds more than 256 elements before its Request, Response or Message", ""},
		{"256 elements in the Header", headerDoc(fill(256-11), "", ""), 0, "", ""},
		{"16 credentials in the Sender", headerDoc("<Sender>"+strings.Repeat(cred, 16)+"</Sender>", "", ""), 0, "", ""},
		{"256 elements before the Request, 1000 after", headerDoc("", "<Foo>"+fill(255)+"</Foo>", fill(1000)), 0, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.doc, Limits{})
			_, envErr := ReadEnvelope(tc.doc, Limits{})
			if tc.code == 0 {
				assert.NoError(t, err)
				assert.NoError(t, envErr)
				return
			}
			var ce *Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.code, ce.Code)
			assert.Contains(t, ce.Detail, tc.detail)
			if tc.envelope == "-" {
				assert.NoError(t, envErr, "the second Header is after where ReadEnvelope stops")
				return
			}
			require.ErrorAs(t, envErr, &ce)
			assert.Equal(t, tc.code, ce.Code)
			want := tc.detail
			if tc.envelope != "" {
				want = tc.envelope
			}
			assert.Contains(t, ce.Detail, want)
		})
	}
}
