package cxml

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Money is an amount in a currency. It is decimal, never float. Empty is
// set for a Money element without an amount, which Coupa's invoices carry
// (<Money currency="USD"/>) to mean "not given".
type Money struct {
	Amount   decimal.Decimal
	Currency string
	Empty    bool
}

// NewMoney returns a Money of amount in currency.
func NewMoney(amount decimal.Decimal, currency string) Money {
	return Money{Amount: amount, Currency: strings.ToUpper(currency)}
}

// currencyDecimals lists the ISO 4217 currencies whose minor unit is not two
// decimals. Everything else has two.
var currencyDecimals = map[string]int32{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0,
	"KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0,
	"XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// CurrencyDecimals is the number of decimals of a currency's minor unit
// (JPY 0, USD 2, BHD 3).
func CurrencyDecimals(currency string) int32 {
	if d, ok := currencyDecimals[strings.ToUpper(currency)]; ok {
		return d
	}
	return 2
}

// WholeMinorUnits reports whether the amount is a whole number of its
// currency's minor units (JPY 1500 or BHD 12.345, not JPY 1500.5): what a
// price, a charge or a PO line item may be. Unit prices of usage are
// rates and may have more decimals.
func (m Money) WholeMinorUnits() bool {
	places := CurrencyDecimals(m.Currency)
	return m.Amount.Equal(m.Amount.Round(places))
}

// String writes the amount with its currency's own number of decimals,
// or more where the amount carries more (a unit price of 0.0125 USD stays
// exact).
func (m Money) String() string {
	if m.Empty {
		return ""
	}
	return FormatAmount(m.Amount, m.Currency)
}

// FormatAmount writes an amount in currency with at least the currency's
// decimals and never loses precision.
func FormatAmount(d decimal.Decimal, currency string) string {
	places := CurrencyDecimals(currency)
	if e := -d.Exponent(); e > places {
		// Keep significant digits beyond the minor unit, drop trailing zeros.
		s := d.String()
		if strings.Contains(s, ".") {
			s = strings.TrimRight(s, "0")
			if frac := len(s) - strings.Index(s, ".") - 1; int32(frac) >= places {
				return s
			}
		}
	}
	return d.StringFixed(places)
}

// ParseAmount reads a decimal as buyers write it: "1505.0", ".00", "030".
// Thousands separators and locale commas are refused, not guessed at.
func ParseAmount(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return decimal.Zero, fmt.Errorf("empty amount")
	}
	if strings.ContainsAny(s, ",eE_ ") {
		return decimal.Zero, fmt.Errorf("amount %q is not a plain decimal (use . as the decimal point, no separators)", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("amount %q is not a decimal number", s)
	}
	return d, nil
}
