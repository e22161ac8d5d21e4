// Package money is the gateway's one amount type: a decimal value in an
// ISO 4217 currency, written with that currency's own minor units (JPY 0,
// USD 2, BHD 3). Catalog offers, agreements and their charges, purchase
// order line items and their balances, invoices, credit memos and carts
// all carry their amounts as an Amount: no feature package parses or
// formats money by itself. (Quantities are not money; they stay decimals.)
//
// Storage is one way everywhere: an amount is a TEXT column holding
// Amount.String (the decimal with at least its currency's decimals: "1500",
// "24000.00", "12.345"; a usage rate keeps its extra digits, "0.0125"),
// beside a currency column holding the ISO 4217 code; an offer's schedule
// and dimensions, kept as JSON, hold the same text. An absent amount
// (the contract value of pay-as-you-go, the amount of an untracked PO line
// item) is the empty text. A column is scanned into a bare Amount, which
// its row's currency column then places (Amount.In): a column cannot see
// its neighbour, so each store's read says which currency its amounts are
// in, once per type.
//
// The same holds for JSON: an Amount is a decimal string ("24000.00") and
// its currency is the object's separate "currency" field, so decoding
// gives a bare Amount that the owning type places in that currency.
//
// Arithmetic refuses to mix currencies, and a bare amount (one whose
// currency is not yet known, as a connection's blanket value or a PO line
// item entered without a currency) takes part in none until it is placed.
//
// The cXML document layer has its own cxml.Money, which cannot import this
// package; Amount.CXML and FromCXML convert at that boundary, and the
// currencies' minor units are cxml's table (cxml.CurrencyDecimals).
package money

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/errs"
)

// Amount is a decimal value in a currency. The zero Amount is absent: it
// has no value and writes as "". An Amount with a value and no currency
// is bare; see In.
type Amount struct {
	value    decimal.Decimal
	set      bool
	currency string
}

// New returns value in currency. It refuses a currency that is not an ISO
// 4217 code.
func New(value decimal.Decimal, currency string) (Amount, error) {
	c, err := Currency(currency)
	if err != nil {
		return Amount{}, err
	}
	return Amount{value: value, set: true, currency: c}, nil
}

// Zero is nothing in currency. It refuses a currency that is not an ISO
// 4217 code.
func Zero(currency string) (Amount, error) { return New(decimal.Zero, currency) }

// Must is New for amounts known to be right (constants, tests); it panics
// on an unknown currency.
func Must(value decimal.Decimal, currency string) Amount {
	a, err := New(value, currency)
	if err != nil {
		panic(err)
	}
	return a
}

// MustParse is Parse for amounts known to be right (constants, tests); it
// panics on error.
func MustParse(s, currency string) Amount {
	a, err := Parse(s, currency)
	if err != nil {
		panic(err)
	}
	return a
}

// Parse reads an amount in currency as it is stored or as a buyer writes
// it ("1505.0", ".00", "030"); thousands separators, exponents and locale
// commas are refused, not guessed at. The empty text is the absent Amount.
// It refuses a currency that is not an ISO 4217 code.
func Parse(s, currency string) (Amount, error) {
	a, err := ParseBare(s)
	if err != nil {
		return Amount{}, err
	}
	return a.In(currency)
}

// ParseBare reads an amount whose currency is not known yet; see Parse.
// The empty text is the absent Amount.
func ParseBare(s string) (Amount, error) {
	if strings.TrimSpace(s) == "" {
		return Amount{}, nil
	}
	d, err := cxml.ParseAmount(s)
	if err != nil {
		return Amount{}, errs.E(errs.Invalid, "%s", err.Error())
	}
	return Amount{value: d, set: true}, nil
}

// Bare returns value with no currency yet, as a connection's blanket
// value, which takes the currency of each offer it is used for.
func Bare(value decimal.Decimal) Amount { return Amount{value: value, set: true} }

// In places an amount in currency. A bare amount takes the currency; an
// amount already in it is returned unchanged; the absent Amount stays
// absent (it has no value to place). An amount in another currency is
// refused: money is never converted. currency must be an ISO 4217 code.
func (a Amount) In(currency string) (Amount, error) {
	c, err := Currency(currency)
	if err != nil {
		return Amount{}, err
	}
	switch {
	case !a.set:
		return Amount{}, nil
	case a.currency == "":
		a.currency = c
		return a, nil
	case a.currency != c:
		return Amount{}, errs.E(errs.Invalid, "an amount in %s is not one in %s", a.currency, c)
	}
	return a, nil
}

// IsSet reports whether the amount has a value (is not absent).
func (a Amount) IsSet() bool { return a.set }

// Currency is the amount's ISO 4217 code, "" for a bare or absent amount.
func (a Amount) Currency() string { return a.currency }

// Decimal is the amount's value, zero for the absent Amount.
func (a Amount) Decimal() decimal.Decimal {
	if !a.set {
		return decimal.Zero
	}
	return a.value
}

// Sign is -1, 0 or 1 as the value is negative, zero (or absent) or
// positive.
func (a Amount) Sign() int { return a.Decimal().Sign() }

// String writes the value with its currency's own number of decimals, or
// more where the value carries more (a usage rate of 0.0125 USD stays
// exact). A bare amount has two, the absent Amount none: "".
func (a Amount) String() string {
	if !a.set {
		return ""
	}
	return cxml.FormatAmount(a.value, a.currency)
}

// Text is the amount and its currency as a person reads it, "12.345 BHD".
func (a Amount) Text() string { return strings.TrimSpace(a.String() + " " + a.currency) }

// WholeMinorUnits reports whether the value is a whole number of its
// currency's minor units (JPY 1500 or BHD 12.345, not JPY 1500.5): what a
// price, a charge or a PO line item may be. Usage rates may have more.
func (a Amount) WholeMinorUnits() bool {
	places := cxml.CurrencyDecimals(a.currency)
	return a.Decimal().Equal(a.Decimal().Round(places))
}

// Decimals is the number of decimals of the amount's currency's minor
// unit (two for a bare amount).
func (a Amount) Decimals() int32 { return cxml.CurrencyDecimals(a.currency) }

// Round rounds the value to whole minor units of its currency, half away
// from zero: what a rate times a quantity becomes as a charge.
func (a Amount) Round() Amount {
	if a.set {
		a.value = a.value.Round(a.Decimals())
	}
	return a
}

// Mul multiplies the amount by a factor (a quantity, a share of days),
// exactly; Round makes the result a charge.
func (a Amount) Mul(f decimal.Decimal) Amount {
	if a.set {
		a.value = a.value.Mul(f)
	}
	return a
}

// Share is part/whole of the amount (the unused days of a prepaid
// period), to decimal division's precision; Round makes it a charge.
func (a Amount) Share(part, whole int64) Amount {
	if a.set {
		a.value = a.value.Mul(decimal.NewFromInt(part)).Div(decimal.NewFromInt(whole))
	}
	return a
}

// Neg is the amount with its sign turned, as a credit.
func (a Amount) Neg() Amount {
	if a.set {
		a.value = a.value.Neg()
	}
	return a
}

// same checks that two amounts may be combined: both in one currency.
func (a Amount) same(op string, b Amount) error {
	switch {
	case a.currency == "" || b.currency == "":
		return errs.E(errs.Internal, "cannot %s %q and %q: an amount without a currency", op, a.Text(), b.Text())
	case a.currency != b.currency:
		return errs.E(errs.Invalid, "cannot %s %s and %s: money in different currencies is never mixed", op, a.Text(), b.Text())
	}
	return nil
}

// Add is a + b, refused unless both are in one currency. An absent amount
// counts as zero.
func (a Amount) Add(b Amount) (Amount, error) {
	if err := a.same("add", b); err != nil {
		return Amount{}, err
	}
	return Amount{value: a.Decimal().Add(b.Decimal()), set: true, currency: a.currency}, nil
}

// Sub is a - b, refused unless both are in one currency. An absent amount
// counts as zero.
func (a Amount) Sub(b Amount) (Amount, error) {
	if err := a.same("subtract", b); err != nil {
		return Amount{}, err
	}
	return Amount{value: a.Decimal().Sub(b.Decimal()), set: true, currency: a.currency}, nil
}

// Cmp compares a and b (-1, 0, 1), refused unless both are in one
// currency.
func (a Amount) Cmp(b Amount) (int, error) {
	if err := a.same("compare", b); err != nil {
		return 0, err
	}
	return a.Decimal().Cmp(b.Decimal()), nil
}

// Equal reports whether a and b are the same money: the same currency and
// an equal value ("100.1" and "100.100" are equal), or both absent.
func (a Amount) Equal(b Amount) bool {
	return a.set == b.set && a.currency == b.currency && a.Decimal().Equal(b.Decimal())
}

// Sum adds amounts in currency; none is zero in it.
func Sum(currency string, as ...Amount) (Amount, error) {
	total, err := Zero(currency)
	if err != nil {
		return Amount{}, err
	}
	for _, a := range as {
		if total, err = total.Add(a); err != nil {
			return Amount{}, err
		}
	}
	return total, nil
}

// CXML is the amount as the document layer writes it.
func (a Amount) CXML() cxml.Money {
	if !a.set {
		return cxml.Money{Currency: a.currency, Empty: true}
	}
	return cxml.NewMoney(a.value, a.currency)
}

// FromCXML reads a cXML Money element; an empty one is the absent Amount.
func FromCXML(m cxml.Money) (Amount, error) {
	if m.Empty {
		return Amount{}, nil
	}
	return New(m.Amount, m.Currency)
}

// MarshalJSON writes the amount as a decimal string, "24000.00"; the
// absent Amount is "".
func (a Amount) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// UnmarshalJSON reads a decimal string or number into a bare Amount; the
// owning type places it in its currency (In). null and "" are absent.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*a = Amount{}
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if strings.TrimSpace(s) == "" {
		*a = Amount{}
		return nil
	}
	// The plain parse error: the JSON decoder's caller words the rest.
	d, err := cxml.ParseAmount(s)
	if err != nil {
		return err
	}
	*a = Amount{value: d, set: true}
	return nil
}

// Value stores the amount as its text (String): the one way amounts are
// stored, beside a currency column.
func (a Amount) Value() (driver.Value, error) { return a.String(), nil }

// Scan reads a stored amount into a bare Amount, which the row's currency
// column then places (In). NULL and "" are absent.
func (a *Amount) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("money: cannot scan %T into an amount", src)
	}
	v, err := ParseBare(s)
	if err != nil {
		return fmt.Errorf("money: stored amount %q: %w", s, err)
	}
	*a = v
	return nil
}

// Currency checks an ISO 4217 currency code, in any case, and returns it
// in upper case.
func Currency(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if c == "" {
		return "", errs.E(errs.Invalid, "the currency is missing: an ISO 4217 code such as USD is required")
	}
	if !iso4217[c] {
		return "", errs.E(errs.Invalid, "currency %q is not an ISO 4217 code such as USD", code)
	}
	return c, nil
}

// iso4217 lists the active ISO 4217 currency codes (funds and precious
// metals, which nothing here sells in, left out).
var iso4217 = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL
		BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
		FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
		KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO
		NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP
		STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD
		XCG XOF XPF YER ZAR ZMW ZWG ZWL`) {
		m[c] = true
	}
	return m
}()
