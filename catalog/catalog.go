// Package catalog owns what the marketplace sells: products (SaaS, AMI,
// container, professional services, data) and their offers (upfront
// contract, flexible payment schedule, pay-as-you-go, annual, free, BYOL),
// public or private to one organization, with an expiry and a revision
// that every change by the seller increments. It also owns each
// organization's private marketplace: when enabled, the organization's
// users see only the products it allows.
//
// Which product and pricing combinations may be sent to a procurement
// system is decided here (Offer.Requestable), so that the start page and
// the order intake apply one rule.
package catalog

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/money"
)

// ProductType is the kind of software a product is.
type ProductType string

// Product types.
const (
	SaaS                 ProductType = "saas"
	AMI                  ProductType = "ami"
	Container            ProductType = "container"
	ProfessionalServices ProductType = "professional_services"
	Data                 ProductType = "data"
)

// PricingModel is how an offer is charged.
type PricingModel string

// Pricing models.
const (
	Upfront PricingModel = "upfront"
	FPS     PricingModel = "fps"
	PAYG    PricingModel = "payg"
	Annual  PricingModel = "annual"
	Free    PricingModel = "free"
	BYOL    PricingModel = "byol"
)

var (
	productTypes  = map[ProductType]string{SaaS: "SaaS", AMI: "AMI", Container: "Container", ProfessionalServices: "Professional services", Data: "Data"}
	pricingModels = map[PricingModel]string{Upfront: "Upfront contract", FPS: "Flexible payment schedule", PAYG: "Pay as you go", Annual: "Annual", Free: "Free", BYOL: "Bring your own license"}
)

// Label is the type as a buyer reads it.
func (t ProductType) Label() string { return productTypes[t] }

// Label is the pricing model as a buyer reads it.
func (m PricingModel) Label() string { return pricingModels[m] }

// Contract reports whether the model is a contract (an upfront or
// scheduled commitment) rather than usage, annual, free or BYOL.
func (m PricingModel) Contract() bool { return m == Upfront || m == FPS }

// Product is a listing.
type Product struct {
	ID          string      `json:"id" db:"id"`
	Name        string      `json:"name" db:"name"`
	Vendor      string      `json:"vendor" db:"vendor"`
	Type        ProductType `json:"type" db:"type"`
	UNSPSC      string      `json:"unspsc" db:"unspsc"`
	Description string      `json:"description" db:"description"`
}

var (
	idRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$`)
	unspscRe = regexp.MustCompile(`^[0-9]{8}([0-9]{2})?$`)
)

// Validate checks a product as a seller lists it.
func (p *Product) Validate() error {
	p.Name, p.Vendor, p.Description = strings.TrimSpace(p.Name), strings.TrimSpace(p.Vendor), strings.TrimSpace(p.Description)
	switch {
	case !idRe.MatchString(p.ID):
		return errs.E(errs.Invalid, "product id %q must be 1-100 letters, digits, '.', '_', ':' or '-'", p.ID)
	case p.Name == "":
		return errs.E(errs.Invalid, "product %s: name is required", p.ID)
	case p.Vendor == "":
		return errs.E(errs.Invalid, "product %s: vendor is required", p.ID)
	case productTypes[p.Type] == "":
		return errs.E(errs.Invalid, "product %s: type must be saas, ami, container, professional_services or data", p.ID)
	case !unspscRe.MatchString(p.UNSPSC):
		return errs.E(errs.Invalid, "product %s: unspsc must be an 8- or 10-digit UNSPSC code such as 43232300", p.ID)
	}
	return nil
}

// Installment is one payment of a flexible payment schedule.
type Installment struct {
	Due    string       `json:"due"`
	Amount money.Amount `json:"amount"`
}

// Dimension is one metered usage dimension of a pay-as-you-go offer. Its
// unit price is a rate and may have more decimals than the currency's
// minor unit.
type Dimension struct {
	Name      string       `json:"name"`
	Unit      string       `json:"unit"`
	UnitPrice money.Amount `json:"unit_price"`
}

// Offer is a way to buy a product. Its amounts are in its currency once
// it is valid (Validate places amounts read from a file, which come bare:
// the file gives the currency once, beside them).
type Offer struct {
	ID                      string        `json:"id"`
	ProductID               string        `json:"product_id"`
	PricingModel            PricingModel  `json:"pricing_model"`
	Currency                string        `json:"currency"`
	Price                   money.Amount  `json:"price"`
	DurationMonths          int           `json:"duration_months"`
	Schedule                []Installment `json:"schedule"`
	Dimensions              []Dimension   `json:"dimensions"`
	PrivateToOrganizationID string        `json:"private_to_organization_id,omitempty"`
	ExpiresAt               *time.Time    `json:"expires_at,omitempty"`
	Revision                int           `json:"revision"`
}

// place puts the offer's amounts in its currency.
func (o *Offer) place() (err error) {
	if o.Price, err = o.Price.In(o.Currency); err != nil {
		return err
	}
	for i := range o.Schedule {
		if o.Schedule[i].Amount, err = o.Schedule[i].Amount.In(o.Currency); err != nil {
			return err
		}
	}
	for i := range o.Dimensions {
		if o.Dimensions[i].UnitPrice, err = o.Dimensions[i].UnitPrice.In(o.Currency); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks an offer as a seller lists it.
func (o *Offer) Validate() error {
	o.Currency = strings.ToUpper(strings.TrimSpace(o.Currency))
	bad := func(format string, args ...any) error {
		return errs.E(errs.Invalid, "offer %s: %s", o.ID, fmt.Sprintf(format, args...))
	}
	if !idRe.MatchString(o.ID) {
		return errs.E(errs.Invalid, "offer id %q must be 1-100 letters, digits, '.', '_', ':' or '-'", o.ID)
	}
	if o.ProductID == "" {
		return bad("product_id is required")
	}
	if pricingModels[o.PricingModel] == "" {
		return bad("pricing_model must be upfront, fps, payg, annual, free or byol")
	}
	if _, err := money.Currency(o.Currency); err != nil {
		return bad("currency must be an ISO 4217 code such as USD")
	}
	if err := o.place(); err != nil {
		return bad("%s", errs.MessageOf(err))
	}
	if o.Revision < 0 {
		return bad("revision must not be negative")
	}
	if o.DurationMonths < 0 || o.DurationMonths > 120 {
		return bad("duration_months must be between 0 and 120")
	}
	checkAmount := func(what string, a money.Amount) error {
		if a.Sign() < 0 {
			return bad("%s must not be negative", what)
		}
		if !a.WholeMinorUnits() {
			return bad("%s %s has more decimals than %s allows (%d)", what, a.Decimal().String(), o.Currency, a.Decimals())
		}
		return nil
	}
	switch o.PricingModel {
	case Upfront, Annual:
		if o.Price.Sign() <= 0 {
			return bad("an %s offer needs a positive price", o.PricingModel)
		}
		if err := checkAmount("price", o.Price); err != nil {
			return err
		}
		if o.DurationMonths == 0 {
			if o.PricingModel == Annual {
				o.DurationMonths = 12
			} else {
				return bad("an upfront offer needs duration_months")
			}
		}
	case FPS:
		if len(o.Schedule) == 0 {
			return bad("an fps offer needs a payment schedule")
		}
		prev := ""
		for i, in := range o.Schedule {
			if _, err := time.Parse(time.DateOnly, in.Due); err != nil {
				return bad("schedule[%d].due must be a date YYYY-MM-DD", i)
			}
			if in.Due < prev {
				return bad("schedule[%d] is due before the payment before it", i)
			}
			prev = in.Due
			if err := checkAmount(fmt.Sprintf("schedule[%d].amount", i), in.Amount); err != nil {
				return err
			}
		}
		if o.DurationMonths == 0 {
			return bad("an fps offer needs duration_months")
		}
	case PAYG:
		if len(o.Dimensions) == 0 {
			return bad("a payg offer needs at least one usage dimension")
		}
		seen := map[string]bool{}
		for i, d := range o.Dimensions {
			if strings.TrimSpace(d.Name) == "" || strings.TrimSpace(d.Unit) == "" {
				return bad("dimensions[%d] needs a name and a unit", i)
			}
			if seen[d.Name] {
				return bad("dimension %q is listed twice", d.Name)
			}
			seen[d.Name] = true
			if d.UnitPrice.Sign() < 0 {
				return bad("dimensions[%d].unit_price must not be negative", i)
			}
		}
	case Free, BYOL:
		if o.Price.Sign() != 0 {
			return bad("a %s offer has no price", o.PricingModel)
		}
	}
	if o.PricingModel != FPS && len(o.Schedule) > 0 {
		return bad("only fps offers have a payment schedule")
	}
	if o.PricingModel != PAYG && len(o.Dimensions) > 0 {
		return bad("only payg offers have usage dimensions")
	}
	return nil
}

// TotalContractValue is what the buyer commits to: the price of an upfront
// or annual offer, the sum of an FPS schedule, zero for free and BYOL.
// Pay-as-you-go has no contract value (ok is false). The offer must be
// valid: its amounts in its currency.
func (o *Offer) TotalContractValue() (v money.Amount, ok bool) {
	switch o.PricingModel {
	case Upfront, Annual:
		return o.Price, true
	case FPS:
		amounts := make([]money.Amount, len(o.Schedule))
		for i, in := range o.Schedule {
			amounts[i] = in.Amount
		}
		// A valid offer's installments are all in its currency: no error.
		sum, _ := money.Sum(o.Currency, amounts...)
		return sum, true
	case Free, BYOL:
		zero, _ := money.Zero(o.Currency)
		return zero, true
	}
	return money.Amount{}, false
}

// Expired reports whether the offer has expired at now.
func (o *Offer) Expired(now time.Time) bool {
	return o.ExpiresAt != nil && !now.Before(*o.ExpiresAt)
}

// VisibleTo reports whether an organization may see the offer: public
// offers to everyone, private offers to their organization only.
func (o *Offer) VisibleTo(orgID string) bool {
	return o.PrivateToOrganizationID == "" || o.PrivateToOrganizationID == orgID
}

// Requestable says whether an offer of a product may be sent to a
// procurement system for approval, and if not, why, in a sentence a buyer
// reads. The integration does not support professional services, AMI
// contracts or container contracts (seed 004): they never reach a cart or
// an order.
func Requestable(p *Product, o *Offer) (bool, string) {
	switch {
	case p.Type == ProfessionalServices:
		return false, "Professional services cannot be requested through your procurement system; contact the seller to buy them directly."
	case p.Type == AMI && o.PricingModel.Contract():
		return false, "AMI contracts are not supported by procurement-system integration; subscribe to this product directly in the marketplace."
	case p.Type == Container && o.PricingModel.Contract():
		return false, "Container contracts are not supported by procurement-system integration; subscribe to this product directly in the marketplace."
	}
	return true, ""
}

// AutoApprovable reports whether the offer may skip the procurement
// system's approval where a connection enables it: free and BYOL offers.
func AutoApprovable(o *Offer) bool { return o.PricingModel == Free || o.PricingModel == BYOL }

// File is the catalog import format of DESIGN.md.
type File struct {
	Products []Product `json:"products"`
	Offers   []Offer   `json:"offers"`
}

// Listing is a product with the offers one organization may see.
type Listing struct {
	Product Product
	Offers  []Offer
}
