package cxml

import "github.com/beevik/etree"

// StatusUpdateRequest tells the other side what became of a document it
// sent earlier: 200 processed, 201 accepted, a 4xx refusal.
type StatusUpdateRequest struct {
	// DocumentReference is the payloadID of the document the status is
	// about.
	DocumentReference string
	Status            Status
	Extrinsics        []Extrinsic
	// Source is the request element as received: the payment, invoice or
	// document status the model does not keep.
	Source *etree.Element
}

// ElementName is "StatusUpdateRequest".
func (*StatusUpdateRequest) ElementName() string { return "StatusUpdateRequest" }
func (*StatusUpdateRequest) isRequest()          {}

// write emits (DocumentReference?, Status, Extrinsic*).
func (s *StatusUpdateRequest) write(parent *etree.Element) {
	e := parent.CreateElement("StatusUpdateRequest")
	if s.DocumentReference != "" {
		writeDocumentReference(e, s.DocumentReference)
	}
	writeStatus(e, s.Status)
	writeExtrinsics(e, s.Extrinsics)
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
		case "Extrinsic":
			s.Extrinsics = append(s.Extrinsics, parseExtrinsic(x))
		}
	}
	return s, nil
}

func init() {
	requestParsers["StatusUpdateRequest"] = parseStatusUpdateRequest
}
