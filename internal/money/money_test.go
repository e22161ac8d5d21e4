package money_test

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/money"
)

func TestParseAndFormat(t *testing.T) {
	tests := []struct {
		name, in, currency, want string
		decimals                 int32
		whole                    bool
	}{
		{"JPY has no decimals", "1500", "JPY", "1500", 0, true},
		{"JPY drops a zero fraction", "1200000.00", "jpy", "1200000", 0, true},
		{"JPY keeps a fraction it was given", "12.5", "JPY", "12.5", 0, false},
		{"USD has two", "24000", "USD", "24000.00", 2, true},
		{"USD pads", "10.5", "usd", "10.50", 2, true},
		{"USD rate keeps its precision", "0.0125", "USD", "0.0125", 2, false},
		{"BHD has three", "15", "BHD", "15.000", 3, true},
		{"BHD exact", "12.345", "BHD", "12.345", 3, true},
		{"BHD rate keeps more", "0.12345", "BHD", "0.12345", 3, false},
		{"KWD has three", "0", "KWD", "0.000", 3, true},
		{"negative, a credit", "-0.25", "BHD", "-0.250", 3, true},
		{"as buyers write it", ".5", "USD", "0.50", 2, true},
		{"leading zeros", "030", "EUR", "30.00", 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := money.Parse(tc.in, tc.currency)
			require.NoError(t, err)
			assert.Equal(t, tc.want, a.String())
			assert.Equal(t, tc.decimals, a.Decimals())
			assert.Equal(t, tc.whole, a.WholeMinorUnits())
			assert.True(t, a.IsSet())
			// Stored text reads back as the same money.
			back, err := money.Parse(a.String(), a.Currency())
			require.NoError(t, err)
			assert.True(t, back.Equal(a), "%s round trip gave %s", a.Text(), back.Text())
			assert.Equal(t, a.String(), back.String())
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, in, currency string }{
		{"no currency", "10", ""},
		{"not a currency", "10", "XYZ"},
		{"not a code", "10", "dollars"},
		{"thousands separator", "1,000.00", "USD"},
		{"locale comma", "10,50", "EUR"},
		{"exponent", "1e3", "USD"},
		{"words", "ten", "USD"},
		{"inner space", "10 00", "USD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := money.Parse(tc.in, tc.currency)
			require.Error(t, err)
			assert.True(t, errs.Is(err, errs.Invalid), "%v", err)
		})
	}
}

func TestAbsentAndBare(t *testing.T) {
	absent, err := money.Parse("", "USD")
	require.NoError(t, err)
	assert.False(t, absent.IsSet())
	assert.Equal(t, "", absent.String())
	assert.True(t, absent.Equal(money.Amount{}))

	bare, err := money.ParseBare("2500.505")
	require.NoError(t, err)
	assert.Equal(t, "", bare.Currency())
	assert.Equal(t, "2500.505", bare.String(), "a bare amount keeps what it was given")
	assert.Equal(t, "10000.00", money.Bare(decimal.NewFromInt(10000)).String(), "and has two decimals")
	for _, tc := range []struct{ currency, want string }{{"JPY", "2500.505"}, {"BHD", "2500.505"}, {"USD", "2500.505"}} {
		a, err := bare.In(tc.currency)
		require.NoError(t, err)
		assert.Equal(t, tc.currency, a.Currency())
		assert.Equal(t, tc.want, a.String())
	}
	jpy, err := bare.In("JPY")
	require.NoError(t, err)
	assert.Equal(t, "2501", jpy.Round().String(), "rounded to whole yen")
	again, err := jpy.In("jpy")
	require.NoError(t, err)
	assert.True(t, again.Equal(jpy), "placing in its own currency changes nothing")
	_, err = jpy.In("USD")
	assert.True(t, errs.Is(err, errs.Invalid), "money is never converted: %v", err)
	_, err = bare.In("")
	assert.Error(t, err)

	_, err = bare.Add(jpy)
	assert.Error(t, err, "a bare amount takes part in no arithmetic")
}

func TestArithmeticRefusesMixingCurrencies(t *testing.T) {
	usd := money.MustParse("10.00", "USD")
	tests := []struct {
		name   string
		a, b   money.Amount
		add    string
		sub    string
		cmp    int
		refuse bool
	}{
		{"USD", usd, money.MustParse("2.5", "USD"), "12.50", "7.50", 1, false},
		{"JPY", money.MustParse("1500", "JPY"), money.MustParse("1500", "JPY"), "3000", "0", 0, false},
		{"BHD keeps three", money.MustParse("15", "BHD"), money.MustParse("12.345", "BHD"), "27.345", "2.655", 1, false},
		{"USD and EUR", usd, money.MustParse("10.00", "EUR"), "", "", 0, true},
		{"JPY and BHD", money.MustParse("1", "JPY"), money.MustParse("1", "BHD"), "", "", 0, true},
		{"absent counts as zero", usd, money.Amount{}, "", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sum, errAdd := tc.a.Add(tc.b)
			diff, errSub := tc.a.Sub(tc.b)
			cmp, errCmp := tc.a.Cmp(tc.b)
			if tc.refuse {
				assert.Error(t, errAdd)
				assert.Error(t, errSub)
				assert.Error(t, errCmp)
				return
			}
			require.NoError(t, errAdd)
			require.NoError(t, errSub)
			require.NoError(t, errCmp)
			assert.Equal(t, tc.add, sum.String())
			assert.Equal(t, tc.sub, diff.String())
			assert.Equal(t, tc.cmp, cmp)
			assert.Equal(t, tc.a.Currency(), sum.Currency())
		})
	}
	_, err := money.Sum("BHD", money.MustParse("1", "BHD"), money.MustParse("1", "USD"))
	assert.Error(t, err)
	total, err := money.Sum("BHD", money.MustParse("0.001", "BHD"), money.MustParse("0.002", "BHD"))
	require.NoError(t, err)
	assert.Equal(t, "0.003", total.String())
	none, err := money.Sum("JPY")
	require.NoError(t, err)
	assert.Equal(t, "0", none.String())
}

func TestRoundAndMul(t *testing.T) {
	tests := []struct{ rate, currency, qty, want string }{
		{"2.5", "JPY", "401", "1003"}, // 1002.5 rounds half away from zero
		{"0.12345", "BHD", "100", "12.345"},
		{"0.012", "USD", "1000", "12.00"},
		{"0.10", "USD", "12.5", "1.25"},
	}
	for _, tc := range tests {
		got := money.MustParse(tc.rate, tc.currency).Mul(decimal.RequireFromString(tc.qty)).Round()
		assert.Equal(t, tc.want, got.String(), "%s %s x %s", tc.rate, tc.currency, tc.qty)
	}
	assert.Equal(t, "-12.345", money.MustParse("12.345", "BHD").Neg().String())
	assert.Equal(t, "6.173", money.MustParse("12.345", "BHD").Share(1, 2).Round().String(), "6.1725, half away from zero")
	assert.Equal(t, "400000", money.MustParse("1200000", "JPY").Share(122, 366).Round().String())
}

// The JSON shape of the admin API: a decimal string, its currency beside
// it in the owning object.
func TestJSON(t *testing.T) {
	type line struct {
		Amount   money.Amount `json:"amount"`
		Currency string       `json:"currency"`
	}
	b, err := json.Marshal(line{Amount: money.MustParse("12.345", "BHD"), Currency: "BHD"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"amount": "12.345", "currency": "BHD"}`, string(b))
	b, err = json.Marshal(line{Currency: "USD"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"amount": "", "currency": "USD"}`, string(b), "an absent amount is the empty string")

	for _, in := range []string{`{"amount": "100.10"}`, `{"amount": 100.1}`} {
		var l line
		require.NoError(t, json.Unmarshal([]byte(in), &l))
		assert.Equal(t, "", l.Amount.Currency(), "decoded bare")
		a, err := l.Amount.In("BHD")
		require.NoError(t, err)
		assert.Equal(t, "100.100", a.String())
	}
	var l line
	require.NoError(t, json.Unmarshal([]byte(`{"amount": null}`), &l))
	assert.False(t, l.Amount.IsSet())
	err = json.Unmarshal([]byte(`{"amount": "1,000"}`), &l)
	require.Error(t, err)
	assert.Equal(t, `amount "1,000" is not a plain decimal (use . as the decimal point, no separators)`, err.Error())
}

// Stored as text; read back bare, then placed in the row's currency.
func TestScanAndValue(t *testing.T) {
	a := money.MustParse("1200000", "JPY")
	v, err := a.Value()
	require.NoError(t, err)
	assert.Equal(t, "1200000", v)
	v, err = money.Amount{}.Value()
	require.NoError(t, err)
	assert.Equal(t, "", v)
	for _, src := range []any{"1200000", []byte("1200000")} {
		var got money.Amount
		require.NoError(t, got.Scan(src))
		placed, err := got.In("JPY")
		require.NoError(t, err)
		assert.True(t, placed.Equal(a))
	}
	var got money.Amount
	require.NoError(t, got.Scan(nil))
	assert.False(t, got.IsSet())
	assert.Error(t, got.Scan("ten"))
	assert.Error(t, got.Scan(12))
}

func TestCXML(t *testing.T) {
	m := money.MustParse("12.345", "BHD").CXML()
	assert.Equal(t, cxml.NewMoney(decimal.RequireFromString("12.345"), "BHD"), m)
	assert.Equal(t, "12.345", m.String())
	back, err := money.FromCXML(m)
	require.NoError(t, err)
	assert.Equal(t, "12.345", back.String())
	empty, err := money.FromCXML(cxml.Money{Currency: "USD", Empty: true})
	require.NoError(t, err)
	assert.False(t, empty.IsSet())
	_, err = money.FromCXML(cxml.NewMoney(decimal.NewFromInt(1), "XYZ"))
	assert.Error(t, err)
}

func TestCurrency(t *testing.T) {
	for _, c := range []string{"USD", "jpy", " bhd "} {
		_, err := money.Currency(c)
		assert.NoError(t, err, c)
	}
	for _, c := range []string{"", "US", "USDX", "XYZ", "XAU"} {
		_, err := money.Currency(c)
		assert.Error(t, err, c)
	}
}

// FuzzMoneyParse holds Parse to its promises on any text: it never panics;
// what it accepts writes as text that parses back to the same money and
// writes the same again, with at least the currency's decimals.
func FuzzMoneyParse(f *testing.F) {
	for _, s := range []string{"1500", "24000.00", "12.345", "0.0125", "-0.25", ".00", "030", "", " 7 ", "1,000", "1e3", "10 00",
		"99999999999999999999999999.999999999999", "-", ".", "+1", "0x10", "NaN", "Infinity"} {
		for _, c := range []string{"JPY", "USD", "BHD"} {
			f.Add(s, c)
		}
	}
	f.Fuzz(func(t *testing.T, s, currency string) {
		a, err := money.Parse(s, currency)
		if err != nil {
			return
		}
		text := a.String()
		if !a.IsSet() {
			if text != "" {
				t.Fatalf("absent amount wrote %q", text)
			}
			return
		}
		back, err := money.Parse(text, a.Currency())
		if err != nil {
			t.Fatalf("Parse(%q) wrote %q, which does not parse: %v", s, text, err)
		}
		if !back.Equal(a) || back.String() != text {
			t.Fatalf("Parse(%q) = %s, but its text %q reads back as %s", s, a.Text(), text, back.Text())
		}
		if dot := len(text) - 1 - indexByte(text, '.'); a.Decimals() > 0 && (indexByte(text, '.') < 0 || int32(dot) < a.Decimals()) {
			t.Fatalf("%q has fewer than %s's %d decimals", text, a.Currency(), a.Decimals())
		}
	})
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
