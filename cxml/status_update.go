package cxml

import (
	"slices"

	"github.com/beevik/etree"
)

// StatusUpdateRequest tells the other side what became of a document it
// sent earlier: 200 processed, 201 accepted, a 4xx refusal. With an
// InvoiceStatus, it is the buyer's word on an invoice the supplier sent
// (SAP Ariba sends these as the invoice is processed, reconciled and paid).
type StatusUpdateRequest struct {
	// DocumentReference is the payloadID of the document the status is
	// about. The DTD lets it be omitted only when an InvoiceStatus names
	// its invoice by InvoiceIDInfo.
	DocumentReference string
	Status            Status
	// InvoiceStatus is nil when the request carries none (it may carry a
	// payment, sourcing, document or integration status instead, which
	// the model does not keep: see Source).
	InvoiceStatus *InvoiceStatus
	Extrinsics    []Extrinsic
	// Source is the request element as received: the payment, invoice or
	// document status the model does not keep.
	Source *etree.Element
}

// InvoiceStatus is the state of an invoice in the buyer's system.
type InvoiceStatus struct {
	// Type is one of InvoiceStatusTypes, as sent (Parse does not check
	// it).
	Type              string
	PaymentNetDueDate Timestamp
	// InvoiceID and InvoiceDate are the InvoiceIDInfo: the invoice number
	// the supplier gave the invoice (empty when the request names the
	// invoice by DocumentReference only).
	InvoiceID   string
	InvoiceDate Timestamp
	// PartialAmount is the amount paid, when the buyer does not pay all
	// of the invoice ("paid" only); nil when not given.
	PartialAmount *Money
	// Comments are the texts of the Comments elements, in order.
	Comments []string
}

// The invoice status types of the DTD (InvoiceStatus@type).
const (
	InvoiceProcessing = "processing"
	InvoiceCanceled   = "canceled"
	InvoiceReconciled = "reconciled"
	InvoiceRejected   = "rejected"
	InvoicePaying     = "paying"
	InvoicePaid       = "paid"
)

// InvoiceStatusTypes lists the types the DTD allows, in its order.
var InvoiceStatusTypes = []string{InvoiceProcessing, InvoiceCanceled, InvoiceReconciled, InvoiceRejected, InvoicePaying, InvoicePaid}

// ValidInvoiceStatusType reports whether t is a type the DTD allows.
func ValidInvoiceStatusType(t string) bool { return slices.Contains(InvoiceStatusTypes, t) }

// ElementName is "StatusUpdateRequest".
func (*StatusUpdateRequest) ElementName() string { return "StatusUpdateRequest" }
func (*StatusUpdateRequest) isRequest()          {}

// write emits (DocumentReference?, Status, InvoiceStatus?, Extrinsic*).
func (s *StatusUpdateRequest) write(parent *etree.Element) {
	e := parent.CreateElement("StatusUpdateRequest")
	if s.DocumentReference != "" {
		writeDocumentReference(e, s.DocumentReference)
	}
	writeStatus(e, s.Status)
	if s.InvoiceStatus != nil {
		s.InvoiceStatus.write(e)
	}
	writeExtrinsics(e, s.Extrinsics)
}

// write emits InvoiceStatus (InvoiceIDInfo?, PartialAmount?, Comments*).
func (is *InvoiceStatus) write(parent *etree.Element) {
	e := parent.CreateElement("InvoiceStatus")
	e.CreateAttr("type", is.Type)
	optTime(e, "paymentNetDueDate", is.PaymentNetDueDate)
	if is.InvoiceID != "" {
		info := e.CreateElement("InvoiceIDInfo")
		info.CreateAttr("invoiceID", is.InvoiceID)
		optTime(info, "invoiceDate", is.InvoiceDate)
	}
	if is.PartialAmount != nil {
		writeMoneyIn(e, "PartialAmount", *is.PartialAmount)
	}
	for _, c := range is.Comments {
		writeComments(e, c)
	}
}

func parseStatusUpdateRequest(e *etree.Element) (RequestBody, error) {
	s := &StatusUpdateRequest{Source: e}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "DocumentReference":
			s.DocumentReference = attr(x, "payloadID")
		case "Status":
			st, err := parseStatus(x)
			if err != nil {
				return nil, err
			}
			s.Status = st
		case "InvoiceStatus":
			is, err := parseInvoiceStatus(x)
			if err != nil {
				return nil, err
			}
			s.InvoiceStatus = is
		case "Extrinsic":
			s.Extrinsics = append(s.Extrinsics, parseExtrinsic(x))
		}
	}
	return s, nil
}

func parseInvoiceStatus(e *etree.Element) (*InvoiceStatus, error) {
	is := &InvoiceStatus{Type: attr(e, "type"), PaymentNetDueDate: ParseTimestamp(attr(e, "paymentNetDueDate"))}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "InvoiceIDInfo":
			is.InvoiceID, is.InvoiceDate = attr(x, "invoiceID"), ParseTimestamp(attr(x, "invoiceDate"))
		case "PartialAmount":
			m, err := optMoneyIn(x, "InvoiceStatus PartialAmount")
			if err != nil {
				return nil, err
			}
			is.PartialAmount = m
		case "Comments":
			if t := text(x); t != "" {
				is.Comments = append(is.Comments, t)
			}
		}
	}
	return is, nil
}

func init() {
	requestParsers["StatusUpdateRequest"] = parseStatusUpdateRequest
}
