package cxml

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/cxmltest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from what Marshal writes")

// Fixed envelope values keep the golden files stable.
const goldenPayloadID = "1726950849000000000.4242.1a2b3c4d5e6f@gateway.example"

var goldenTime = time.Date(2024, 9, 21, 16, 34, 9, 0, time.FixedZone("", -4*3600))

func usd(s string) Money { return NewMoney(decimal.RequireFromString(s), "USD") }

func ptrMoney(m Money) *Money { return &m }

func at(t time.Time) Timestamp { return Timestamp{Time: t, Zoned: true, Valid: true} }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// header is the gateway writing to a Coupa buyer.
func header() *Header {
	return &Header{
		From:   Party{Credentials: []Credential{{Domain: "DUNS", Identity: "081254817"}}},
		To:     Party{Credentials: []Credential{{Domain: "NetworkID", Identity: "DemoCorpCoupa"}}},
		Sender: Sender{Credentials: []Credential{{Domain: "DUNS", Identity: "081254817", SharedSecret: "s3cret"}}},
	}
}

func request(body RequestBody) *Document {
	return &Document{PayloadID: goldenPayloadID, Timestamp: at(goldenTime), Header: header(), Request: &Request{Body: body}}
}

// customFields is a Coupa custom field: an extrinsic with element content.
func customFields(t testing.TB) *etree.Element {
	t.Helper()
	d := etree.NewDocument()
	require.NoError(t, d.ReadFromString(`<Extrinsic name="CustomFields"><IdReference identifier="cost_center" domain="CustomFields"><Description xml:lang="en">CC-42</Description></IdReference></Extrinsic>`))
	return d.Root()
}

func shipTo() *Address {
	return &Address{
		AddressID: "171210", ISOCountryCode: "US", Name: "Demo Corp HQ", Lang: "en",
		DeliverTo: []string{"Dana Whitfield"}, Street: []string{"10201 Philadelphia Rd", "Suite 4"},
		City: "White Marsh", State: "MD", Postal: "21162-3401", Country: "US", CountryName: "United States",
		Email: "dana@democorp.example",
		Phone: &Phone{Name: "work", CountryCode: "1", ISOCountryCode: "US", AreaOrCityCode: "410", Number: "9316500"},
	}
}

func endUser() Contact {
	return Contact{Role: "endUser", Name: "Dana Whitfield", Lang: "en-US", Email: "dana@democorp.example",
		Phone: &Phone{CountryCode: "1", ISOCountryCode: "US", AreaOrCityCode: "410", Number: "9316500", Extension: "12"}}
}

func saasDetail(t testing.TB) ItemDetail {
	return ItemDetail{
		UnitPrice:          usd("0.0125"),
		Descriptions:       []Description{{Lang: "en-US", Text: "Observability suite, pay as you go: 0.0125 USD per host hour", ShortName: "Observability suite"}},
		UnitOfMeasure:      "HUR",
		Classifications:    []Classification{{Domain: "UNSPSC", Value: "43232300"}},
		ManufacturerPartID: "prod-obs", ManufacturerName: "Acme Cloud",
		URL: "https://marketplace.example/p/prod-obs", LeadTime: "0",
		Extrinsics: []Extrinsic{{Name: "PricingModel", Value: "payg"}, {Name: "CustomFields", Element: customFields(t)}},
	}
}

func writeCases(t testing.TB) []struct {
	name string
	doc  *Document
} {
	period := &Period{Start: at(time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)), End: at(time.Date(2024, 9, 30, 23, 59, 59, 0, time.UTC))}
	orderRef := &OrderReference{OrderID: "PO-2024-0042", OrderDate: at(time.Date(2024, 9, 20, 9, 0, 0, 0, time.UTC)), DocumentReference: "PO-2024-0042"}
	vat := func(taxable, amount string) *Tax {
		return &Tax{Money: usd(amount), Description: Description{Lang: "en-US", Text: "Sales tax"},
			Details: []TaxDetail{{Purpose: "tax", Category: "sales", PercentageRate: decimal.NewNullDecimal(dec("8.25")),
				TaxPointDate: at(time.Date(2024, 9, 21, 0, 0, 0, 0, time.UTC)), TaxableAmount: ptrMoney(usd(taxable)), TaxAmount: usd(amount), Location: "MD", LocationLang: "en"}}}
	}
	cases := []struct {
		name string
		doc  *Document
	}{
		{"profile_request", request(&ProfileRequest{})},
		{"punchout_setup_request_edit", request(&PunchOutSetupRequest{
			Operation: OperationEdit, BuyerCookie: "99df85a3c958a552b26ba6dc04a9242f",
			Extrinsics:         []Extrinsic{{Name: "UserEmail", Value: "dana@democorp.example"}, {Name: "CustomFields", Element: customFields(t)}},
			BrowserFormPostURL: "https://demo.coupahost.com/punchout/checkout?id=27",
			Contacts:           []Contact{endUser()},
			SupplierSetupURL:   "https://gateway.example/cxml",
			ShipTo:             shipTo(),
			SelectedItem:       &ItemID{SupplierPartID: "offer-payg-1"},
			ItemOut: []ItemOut{{Quantity: dec("2.5"), LineNumber: 1, RequestedDeliveryDate: "2024-10-01",
				ItemID: ItemID{SupplierPartID: "offer-payg-1", SupplierPartAuxiliaryID: "q1.sig"}, ItemDetail: ptrDetail(saasDetail(t))}},
		})},
		{"punchout_setup_response", NewResponse(goldenPayloadID, goldenTime, NewStatus(StatusOK, ""),
			&PunchOutSetupResponse{StartPageURL: "https://gateway.example/punchout/start?token=abc&x=1"})},
		{"punchout_order_message", &Document{PayloadID: goldenPayloadID, Timestamp: at(goldenTime), Header: header(), Message: &Message{Body: &PunchOutOrderMessage{
			BuyerCookie: "99df85a3c958a552b26ba6dc04a9242f", OperationAllowed: OperationEdit, QuoteStatus: "final",
			Total:    usd("10030.25"),
			ShipTo:   shipTo(),
			Shipping: &Shipping{Money: usd("0"), Description: Description{Lang: "en-US", Text: "Electronic delivery"}},
			Tax:      &Tax{Money: usd("0"), Description: Description{Lang: "en-US", Text: "Tax is invoiced"}},
			Items: []ItemIn{
				{Quantity: dec("1"), LineNumber: 1, ItemID: ItemID{SupplierPartID: "offer-payg-1", SupplierPartAuxiliaryID: "q1.sig"},
					ItemDetail: ItemDetail{UnitPrice: usd("10000"), Descriptions: []Description{{Text: "Blanket value for pay as you go usage"}},
						UnitOfMeasure: "EA", Classifications: []Classification{{Domain: "UNSPSC", Value: "43232300"}}},
					Extrinsics: []Extrinsic{{Name: "BlanketValue", Value: "true"}}},
				{Quantity: dec("2.5"), LineNumber: 2, ItemID: ItemID{SupplierPartID: "offer-payg-2"}, ItemDetail: saasDetail(t),
					Attrs: []etree.Attr{{Key: "itemClassification", Value: "service"}, {Key: "requestedDeliveryDate", Value: "not on an ItemIn"}}},
			},
		}}}},
		{"punchout_order_message_empty", &Document{PayloadID: goldenPayloadID, Timestamp: at(goldenTime), Header: header(), Message: &Message{Body: &PunchOutOrderMessage{
			BuyerCookie: "99df85a3c958a552b26ba6dc04a9242f", OperationAllowed: OperationInspect, Total: NewMoney(decimal.Zero, "JPY"),
		}}}},
		{"order_request", request(&OrderRequest{
			OrderID: "PO-2024-0042", OrderDate: at(time.Date(2024, 9, 20, 9, 0, 0, 0, time.UTC)), Type: OrderNew, OrderType: "regular", OrderVersion: "1",
			Total: usd("10000.00"), ShipTo: shipTo(), BillTo: &Address{AddressID: "142", Name: "Demo Corp AP", Street: []string{"3420 Flatiron Way"}, City: "Boulder", State: "CO", Postal: "80301", Country: "US"},
			Shipping: &Shipping{Money: usd("0"), Description: Description{Lang: "en-US"}},
			Contacts: []Contact{endUser()}, Comments: "Approved by finance",
			Extrinsics: []Extrinsic{{Name: "UsagePONumber", Value: "PO-USAGE-7"}, {Name: "CustomFields", Element: customFields(t)}},
			Items: []ItemOut{{Quantity: dec("1"), LineNumber: 1, ItemID: ItemID{SupplierPartID: "offer-payg-1", SupplierPartAuxiliaryID: "q1.sig"},
				ItemDetail: &ItemDetail{UnitPrice: usd("10000"), Descriptions: []Description{{Lang: "en", Text: "Blanket"}}, UnitOfMeasure: "EA",
					Classifications: []Classification{{Domain: "UNSPSC", Value: "43232300"}}, Extrinsics: []Extrinsic{{Name: "LineType", Value: "Quantity"}}}}},
		})},
		{"order_request_delete", request(&OrderRequest{
			OrderID: "PO-2024-0042", OrderDate: at(time.Date(2024, 9, 22, 9, 0, 0, 0, time.UTC)), Type: OrderDelete, OrderVersion: "2",
			Total: usd("0"), BillTo: &Address{Name: "Demo Corp AP"}, DocumentReference: "1585687161.003309@stg1565utl2.int.coupahost.com",
			Items: []ItemOut{{Quantity: dec("1"), LineNumber: 1, ItemID: ItemID{SupplierPartID: "offer-payg-1"}}},
		})},
		{"confirmation_request", request(&ConfirmationRequest{
			Header: ConfirmationHeader{Type: "detail", NoticeDate: at(goldenTime), Operation: "new", ConfirmID: "C-1",
				Contacts: []Contact{{Role: "shipTo", AddressID: "171210", Name: "Demo Corp HQ", Lang: "en-US"}}, Comments: "Provisioned",
				Extrinsics: []Extrinsic{{Name: "AgreementID", Value: "agr-1"}}},
			OrderReference: *orderRef,
			Items: []ConfirmationItem{
				{LineNumber: 1, Quantity: dec("20"), UnitOfMeasure: "EA", Statuses: []ConfirmationStatus{
					{Type: "accept", Quantity: dec("15"), ShipmentDate: at(goldenTime), DeliveryDate: at(goldenTime), UnitPrice: ptrMoney(usd("4.44")), Comments: "Live"},
					{Type: "backordered", Quantity: dec("5")},
				}},
				{LineNumber: 2, Quantity: dec("1")},
			},
		})},
		{"invoice_detail_request", request(&InvoiceDetailRequest{
			Header: InvoiceDetailRequestHeader{
				InvoiceID: "INV-2024-0001", Purpose: InvoiceStandard, Operation: "new", InvoiceDate: at(goldenTime),
				LineIndicator: InvoiceLineIndicator{IsTaxInLine: true},
				Partners: []InvoicePartner{
					{Contact: Contact{Role: "remitTo", AddressID: "acme-remit", Name: "Acme Cloud Inc."}},
					{Contact: Contact{Role: "invoiceFrom", Name: "Acme Cloud Inc."}, IDReferences: []IDReference{{Domain: "taxNumber", Identifier: "US-12-3456789"}}},
				},
				PaymentTerms: []PaymentTerm{{PayInNumberOfDays: 30}},
				Period:       period,
				Comments:     "Upfront fee and first payment of the schedule",
				Extrinsics:   []Extrinsic{{Name: "AgreementID", Value: "agr-1"}},
			},
			Orders: []InvoiceDetailOrder{{
				OrderReference: orderRef,
				ServiceItems: []InvoiceDetailServiceItem{{
					InvoiceLineNumber: 1, Quantity: decimal.NewNullDecimal(dec("1")),
					Reference:      InvoiceItemReference{LineNumber: 1, Classifications: []Classification{{Domain: "UNSPSC", Value: "43232300"}}, ItemID: &ItemID{SupplierPartID: "offer-fps-1"}, Description: &Description{Lang: "en-US", Text: "Payment 1 of 4"}},
					SubtotalAmount: usd("2500"), Period: period, UnitOfMeasure: "EA", UnitPrice: ptrMoney(usd("2500")),
					Tax: vat("2500", "206.25"), NetAmount: ptrMoney(usd("2706.25")),
					Extrinsics: []Extrinsic{{Name: "ChargeID", Value: "chg-1"}},
				}},
				Items: []InvoiceDetailItem{{
					InvoiceLineNumber: 2, Quantity: dec("2.5"), UnitOfMeasure: "HUR", UnitPrice: usd("0.0125"),
					Reference:      InvoiceItemReference{LineNumber: 2, ItemID: &ItemID{SupplierPartID: "offer-payg-2"}, Description: &Description{Lang: "en-US", Text: "Host hours"}},
					SubtotalAmount: ptrMoney(usd("0.03")), Tax: vat("0.03", "0"), NetAmount: ptrMoney(usd("0.03")),
				}},
			}},
			Summary: InvoiceDetailSummary{
				SubtotalAmount: usd("2500.03"), Tax: *vat("2500.03", "206.25"),
				GrossAmount: ptrMoney(usd("2706.28")), NetAmount: usd("2706.28"), DueAmount: ptrMoney(usd("2706.28")),
			},
		})},
		{"invoice_detail_request_credit_memo", request(&InvoiceDetailRequest{
			Header: InvoiceDetailRequestHeader{
				InvoiceID: "CM-2024-0001", Purpose: InvoiceLineLevelCreditMemo, InvoiceDate: at(goldenTime),
				DocumentReference: "1726950000000000000.4242.ffff@gateway.example",
			},
			Orders: []InvoiceDetailOrder{{
				MasterAgreementReference: &MasterAgreementReference{AgreementID: "agr-9", DocumentReference: "2257"},
				ServiceItems:             []InvoiceDetailServiceItem{{InvoiceLineNumber: 1, SubtotalAmount: NewMoney(dec("-150000"), "JPY")}},
			}},
			Summary: InvoiceDetailSummary{
				SubtotalAmount: NewMoney(dec("-150000"), "JPY"), Tax: Tax{Money: NewMoney(decimal.Zero, "JPY")},
				NetAmount: Money{Currency: "JPY", Empty: true},
			},
		})},
		{"status_update_request", request(&StatusUpdateRequest{
			DocumentReference: "0c300508b7863dcclb_14999", Status: NewStatus(StatusOK, "Forwarded to supplier"),
		})},
		{"status_update_request_invoice", request(&StatusUpdateRequest{
			Status: NewStatus(StatusOK, "Your invoice was paid in part."),
			InvoiceStatus: &InvoiceStatus{
				Type: InvoicePaid, PaymentNetDueDate: Timestamp{Time: goldenTime.AddDate(0, 0, 30)},
				InvoiceID: "inv_0001", InvoiceDate: Timestamp{Time: goldenTime.AddDate(0, 0, -3)},
				PartialAmount: ptrMoney(NewMoney(dec("1500"), "JPY")),
				Comments:      []string{"Paid in part: one licence was returned."},
			},
		})},
		{"response_status_only", NewResponse(goldenPayloadID, goldenTime, NewStatus(StatusNotAcceptable, "the document is not well-formed XML: an unescaped '&' (write it as &amp;) (line 3)"), nil)},
	}
	return cases
}

func ptrDetail(d ItemDetail) *ItemDetail { return &d }

func TestMarshalGolden(t *testing.T) {
	for _, tc := range writeCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Marshal(tc.doc)
			require.NoError(t, err)
			cxmltest.Validate(t, out)
			compareGolden(t, filepath.Join("testdata", tc.name+".golden"), out)

			back, err := Parse(out, Limits{})
			require.NoError(t, err, "what Marshal writes must parse")
			assert.Equal(t, tc.doc.Kind(), back.Kind())
			assert.Equal(t, goldenPayloadID, back.PayloadID)
			assert.True(t, back.Timestamp.Zoned && goldenTime.Equal(back.Timestamp.Time))
			out2, err := Marshal(back)
			require.NoError(t, err)
			assert.Equal(t, string(out), string(out2), "parse then marshal is the identity on our own output")
		})
	}
}

func TestMarshalNamesTheRightDTD(t *testing.T) {
	for _, tc := range writeCases(t) {
		want := DTDcXML
		switch tc.doc.Kind() {
		case "InvoiceDetailRequest":
			want = DTDInvoiceDetail
		case "ConfirmationRequest":
			want = DTDFulfill
		}
		out, err := Marshal(tc.doc)
		require.NoError(t, err)
		assert.Contains(t, string(out), `<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.069/`+want+`">`, tc.name)
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file; run go test ./cxml -run %s -update", t.Name())
	assert.Equal(t, string(want), string(got), "output differs from %s; if the change is intended, run go test ./cxml -update", path)
}

// TestRoundTripSamples re-marshals what Parse read from every real-world
// sample, DTD-invalid ones included: strict out even from lenient in.
func TestRoundTripSamples(t *testing.T) {
	for _, name := range sampleNames(t) {
		t.Run(name, func(t *testing.T) {
			d := parseSample(t, name)
			out, err := Marshal(d)
			require.NoError(t, err)
			cxmltest.Validate(t, out)
			back, err := Parse(out, Limits{})
			require.NoError(t, err)
			assert.Equal(t, d.Kind(), back.Kind())
			assert.Equal(t, d.PayloadID, back.PayloadID)
			assert.NotContains(t, string(out), "<cxml", "the root is written as cXML")
		})
	}

	t.Run("order and cart contents survive", func(t *testing.T) {
		for _, name := range []string{"coupa_orderrequest_1.xml", "coupa_orderrequest_2.xml", "generic_orderrequest_1.xml", "ariba_orderrequest_1.xml"} {
			o := requestBody[*OrderRequest](t, parseSample(t, name))
			back := requestBody[*OrderRequest](t, reparse(t, parseSample(t, name)))
			assert.Equal(t, o.OrderID, back.OrderID, name)
			assertMoney(t, o.Total, back.Total)
			assert.Len(t, back.Extrinsics, len(o.Extrinsics), name)
			require.Len(t, back.Items, len(o.Items), name)
			for i := range o.Items {
				assert.True(t, o.Items[i].Quantity.Equal(back.Items[i].Quantity))
				assert.Equal(t, o.Items[i].ItemID, back.Items[i].ItemID)
				assertMoney(t, o.Items[i].ItemDetail.UnitPrice, back.Items[i].ItemDetail.UnitPrice)
				assert.Equal(t, o.Items[i].ItemDetail.Descriptions, back.Items[i].ItemDetail.Descriptions)
			}
		}
		for _, name := range []string{"cxmlguide_punchoutordermessage_1.xml", "generic_punchoutordermessage_1.xml", "chefworks_punchoutordermessage_1.xml"} {
			p := parseSample(t, name).Message.Body.(*PunchOutOrderMessage)
			back := reparse(t, parseSample(t, name)).Message.Body.(*PunchOutOrderMessage)
			assertMoney(t, p.Total, back.Total)
			assert.Equal(t, p.BuyerCookie, back.BuyerCookie)
			require.Len(t, back.Items, len(p.Items))
			for i := range p.Items {
				assert.Equal(t, p.Items[i].ItemDetail.Descriptions, back.Items[i].ItemDetail.Descriptions, name)
				assert.Equal(t, len(p.Items[i].Passthrough), len(back.Items[i].Passthrough), name)
				assert.Equal(t, len(p.Items[i].Attrs), len(back.Items[i].Attrs), name)
			}
		}
	})
}

// assertMoney compares amounts by value: "8.1" read back as "8.10" is the
// same money.
func assertMoney(t *testing.T, want, got Money) {
	t.Helper()
	assert.Equal(t, want.Currency, got.Currency)
	assert.Equal(t, want.Empty, got.Empty)
	assert.True(t, want.Amount.Equal(got.Amount), "amount %s, want %s", got.Amount, want.Amount)
}

func reparse(t *testing.T, d *Document) *Document {
	t.Helper()
	out, err := Marshal(d)
	require.NoError(t, err)
	back, err := Parse(out, Limits{})
	require.NoError(t, err)
	return back
}

// editRequest is an edit PunchOutSetupRequest whose line carries what the
// model does not know: attributes, Distribution, Comments, and extrinsics
// with element content, both in ItemDetail and, against the DTD, in the
// ItemOut itself.
const editRequest = `<PunchOutSetupRequest operation="edit"><BuyerCookie>c</BuyerCookie>
<Extrinsic name="CustomFields"><IdReference identifier="project" domain="CustomFields"><Description xml:lang="en">Apollo</Description></IdReference></Extrinsic>
<BrowserFormPost><URL>https://b.example/return</URL></BrowserFormPost>
<ItemOut quantity="3" lineNumber="7" itemType="item" requestedDeliveryDate="2024-10-01" isAdHoc="yes">
 <ItemID><SupplierPartID>offer-1</SupplierPartID><SupplierPartAuxiliaryID>q.sig</SupplierPartAuxiliaryID></ItemID>
 <ItemDetail><UnitPrice><Money currency="USD">5</Money></UnitPrice><Description xml:lang="en">d</Description><UnitOfMeasure>EA</UnitOfMeasure>
  <Classification domain="UNSPSC">43232300</Classification>
  <Extrinsic name="CustomFields"><IdReference identifier="cost_center" domain="CustomFields"><Description xml:lang="en">CC-42</Description></IdReference></Extrinsic>
 </ItemDetail>
 <Distribution><Accounting name="a"><Segment type="Cost Center" id="c50" description="CCentre"/></Accounting><Charge><Money currency="USD">15</Money></Charge></Distribution>
 <Comments xml:lang="en">first</Comments><Comments xml:lang="en">second</Comments>
 <Extrinsic name="BuyerLineRef"><IdReference identifier="L-7" domain="buyerLine"/></Extrinsic>
</ItemOut></PunchOutSetupRequest>`

func TestExtrinsicElementContentSurvives(t *testing.T) {
	d, err := Parse(cxmlDoc("", editRequest), Limits{})
	require.NoError(t, err)
	p := requestBody[*PunchOutSetupRequest](t, d)
	require.Len(t, p.ItemOut, 1)
	line := p.ItemOut[0]
	assert.Equal(t, "CC-42", innerText(line.ItemDetail.Extrinsics[0].Element))
	require.Len(t, line.Extrinsics, 1, "an extrinsic placed in the ItemOut itself is kept")

	t.Run("rewritten request", func(t *testing.T) {
		out, err := Marshal(d)
		require.NoError(t, err)
		cxmltest.Validate(t, out)
		root := xmlRoot(t, out)
		x := root.FindElement("//PunchOutSetupRequest/Extrinsic[@name='CustomFields']/IdReference[@identifier='project']/Description")
		require.NotNil(t, x, "header extrinsic content:\n%s", out)
		assert.Equal(t, "Apollo", x.Text())
		x = root.FindElement("//ItemOut/ItemDetail/Extrinsic[@name='CustomFields']/IdReference[@domain='CustomFields']/Description")
		require.NotNil(t, x, "line extrinsic content:\n%s", out)
		assert.Equal(t, "CC-42", x.Text())
	})

	t.Run("echoed into the cart", func(t *testing.T) {
		in := line.Echo()
		msg := &Document{PayloadID: goldenPayloadID, Timestamp: at(goldenTime), Header: header(), Message: &Message{Body: &PunchOutOrderMessage{
			BuyerCookie: p.BuyerCookie, OperationAllowed: OperationEdit, Total: usd("15"), Items: []ItemIn{in},
		}}}
		out, err := Marshal(msg)
		require.NoError(t, err)
		cxmltest.Validate(t, out)
		root := xmlRoot(t, out)
		it := root.FindElement("//ItemIn")
		require.NotNil(t, it)
		assert.Equal(t, "3", it.SelectAttrValue("quantity", ""))
		assert.Equal(t, "7", it.SelectAttrValue("lineNumber", ""))
		assert.Equal(t, "item", it.SelectAttrValue("itemType", ""), "a DTD-declared attribute of the buyer's line is carried")
		assert.Nil(t, it.SelectAttr("requestedDeliveryDate"), "one ItemIn does not declare is not")
		assert.Nil(t, it.SelectAttr("isAdHoc"))
		assert.NotNil(t, it.FindElement("Distribution/Accounting/Segment[@id='c50']"), "Distribution is carried")
		assert.Len(t, it.SelectElements("Comments"), 1, "ItemIn holds one Comments")
		x := it.FindElement("ItemDetail/Extrinsic[@name='CustomFields']/IdReference/Description")
		require.NotNil(t, x)
		assert.Equal(t, "CC-42", x.Text())
		x = it.FindElement("Extrinsic[@name='BuyerLineRef']/IdReference")
		require.NotNil(t, x, "the ItemOut's own extrinsic lands in the ItemIn")
		assert.Equal(t, "L-7", x.SelectAttrValue("identifier", ""))
	})
}

func TestMarshalStrictFromLenientValues(t *testing.T) {
	d, err := Parse(cxmlDoc("", `<PunchOutSetupRequest operation="Edit"><BuyerCookie>c</BuyerCookie>
		<Extrinsic name="x" type="undeclared">v</Extrinsic></PunchOutSetupRequest>`), Limits{})
	require.NoError(t, err)
	out, err := Marshal(d)
	require.NoError(t, err)
	cxmltest.Validate(t, out)
	assert.Contains(t, string(out), `operation="edit"`)
	assert.NotContains(t, string(out), "undeclared")
}

func xmlRoot(t *testing.T, b []byte) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	require.NoError(t, doc.ReadFromBytes(b))
	return doc.Root()
}

func TestMarshalWritesRFC3339(t *testing.T) {
	d := parseSample(t, "ariba_punchoutsetuprequest_2.xml") // timestamp="3/30/2015 11:56:16 AM"
	out, err := Marshal(d)
	require.NoError(t, err)
	assert.Contains(t, string(out), `timestamp="2015-03-30T11:56:16Z"`)
	assert.Equal(t, 1, bytes.Count(out, []byte("timestamp=")))
	assert.True(t, strings.HasPrefix(string(out), `<?xml version="1.0" encoding="UTF-8"?>`))
}
