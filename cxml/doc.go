// Package cxml is the gateway's document layer: the one place that reads and
// writes cXML. It knows the envelope (payloadID, timestamp, credentials), the
// request, response and message bodies the gateway exchanges with Coupa and
// SAP Ariba, status codes, money and timestamps.
//
// It is lenient in and strict out. Parse reads what real procurement systems
// send: documents without a DOCTYPE or with an empty internal subset, a
// lower-case root, ISO-8859-1, UTF-16, timestamps without a zone or in US
// locale, credential domains in any case, whitespace around values and
// elements in an order the DTD does not allow. Marshal writes every element in DTD order,
// under the DOCTYPE of the DTD that declares its body, with RFC 3339
// timestamps; PayloadIDs makes payloadIDs unique by construction. Marshal
// does not check that a model is complete (an invoice needs at least one
// line, a date must be set): the tests validate every document the gateway
// writes against the official DTD.
//
// What the model does not know is kept, not dropped: a parsed Document
// keeps its tree, requests and cart and order lines point at their Source
// element, an Extrinsic keeps a copy of its element (Coupa's custom fields
// hold elements, not text), and a cart line reopened by an edit request
// (ItemOut.Echo) carries the buyer's own children, attributes and
// extrinsics into the ItemIn wherever the DTD lets an ItemIn hold them.
// InvoiceDetailRequest names InvoiceDetail.dtd and ConfirmationRequest
// Fulfill.dtd, the only DTDs that declare them.
//
// Decode turns every document into UTF-8 text first, and everything after it
// (the markup checks, the readers, redaction) reads that text only, so that
// no encoding hides markup from a check. Parse refuses hostile input before
// it builds anything: bodies over the size limit, nesting deeper than the
// depth limit, entity declarations and any DOCTYPE that is not the standard
// external cXML one. An inbound DOCTYPE is never written back out.
// ReadEnvelope reads the payloadID, the Header and the kind of a document
// without a tree, in memory bounded by the Header, so that a request can be
// authenticated before Parse builds the tree of its body.
//
// The package imports nothing else of the gateway; it knows no database and
// no HTTP framework.
package cxml
