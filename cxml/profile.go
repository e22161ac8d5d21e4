package cxml

import (
	"time"

	"github.com/beevik/etree"
)

// ProfileRequest asks for the server's profile; buyers also use it as a
// ping.
type ProfileRequest struct{}

// ElementName is "ProfileRequest".
func (*ProfileRequest) ElementName() string { return "ProfileRequest" }
func (*ProfileRequest) isRequest()          {}
func (*ProfileRequest) write(parent *etree.Element) {
	parent.CreateElement("ProfileRequest")
}

// ProfileResponse lists the transactions the server supports and where to
// send each.
type ProfileResponse struct {
	EffectiveDate time.Time
	LastRefresh   time.Time
	Options       []Option
	Transactions  []Transaction
}

// Option is a name/value pair of a profile.
type Option struct {
	Name  string
	Value string
}

// Transaction is one request type the server accepts, at URL.
type Transaction struct {
	RequestName string
	URL         string
	Options     []Option
}

// ElementName is "ProfileResponse".
func (*ProfileResponse) ElementName() string { return "ProfileResponse" }
func (*ProfileResponse) isResponse()         {}
func (p *ProfileResponse) write(parent *etree.Element) {
	e := parent.CreateElement("ProfileResponse")
	e.CreateAttr("effectiveDate", FormatTime(p.EffectiveDate))
	if !p.LastRefresh.IsZero() {
		e.CreateAttr("lastRefresh", FormatTime(p.LastRefresh))
	}
	writeOptions(e, p.Options)
	for _, t := range p.Transactions {
		te := e.CreateElement("Transaction")
		te.CreateAttr("requestName", t.RequestName)
		te.CreateElement("URL").SetText(t.URL)
		writeOptions(te, t.Options)
	}
}

func writeOptions(parent *etree.Element, opts []Option) {
	for _, o := range opts {
		oe := parent.CreateElement("Option")
		oe.CreateAttr("name", o.Name)
		oe.SetText(o.Value)
	}
}

func parseProfileResponse(e *etree.Element) (ResponseBody, error) {
	p := &ProfileResponse{
		EffectiveDate: ParseTimestamp(e.SelectAttrValue("effectiveDate", "")).Time,
		LastRefresh:   ParseTimestamp(e.SelectAttrValue("lastRefresh", "")).Time,
		Options:       parseOptions(e),
	}
	for _, te := range e.SelectElements("Transaction") {
		p.Transactions = append(p.Transactions, Transaction{
			RequestName: te.SelectAttrValue("requestName", ""),
			URL:         text(te.SelectElement("URL")),
			Options:     parseOptions(te),
		})
	}
	return p, nil
}

func parseOptions(e *etree.Element) []Option {
	var out []Option
	for _, o := range e.SelectElements("Option") {
		out = append(out, Option{Name: o.SelectAttrValue("name", ""), Value: text(o)})
	}
	return out
}

func init() {
	requestParsers["ProfileRequest"] = func(*etree.Element) (RequestBody, error) { return &ProfileRequest{}, nil }
	responseParsers["ProfileResponse"] = parseProfileResponse
}
