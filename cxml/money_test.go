package cxml

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		name     string
		amount   string
		currency string
		want     string
	}{
		{"JPY has no decimals", "1500", "JPY", "1500"},
		{"JPY zero", "0", "JPY", "0"},
		{"JPY keeps a fraction it was given", "12.5", "JPY", "12.5"},
		{"USD has two", "10", "USD", "10.00"},
		{"USD pads", "10.5", "USD", "10.50"},
		{"USD keeps trailing zeros up to two", "1.10", "USD", "1.10"},
		{"USD blanket value", "10000", "USD", "10000.00"},
		{"fractional unit price keeps its precision", "0.0125", "USD", "0.0125"},
		{"long price keeps every digit", "3.14159265358979323846", "USD", "3.14159265358979323846"},
		{"BHD has three", "1.5", "BHD", "1.500"},
		{"BHD keeps more", "12.3456", "BHD", "12.3456"},
		{"KWD has three", "0", "KWD", "0.000"},
		{"currency in lower case", "7", "jpy", "7"},
		{"unknown currency has two", "7", "XYZ", "7.00"},
		{"negative (credit)", "-5", "USD", "-5.00"},
		{"negative BHD", "-0.25", "BHD", "-0.250"},
		{"trailing zeros beyond the minor unit are dropped", "2.5000", "USD", "2.50"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := decimal.NewFromString(tc.amount)
			require.NoError(t, err)
			assert.Equal(t, tc.want, FormatAmount(d, tc.currency))
			assert.Equal(t, tc.want, NewMoney(d, tc.currency).String())
		})
	}
}

func TestMoney(t *testing.T) {
	m := NewMoney(decimal.RequireFromString("0.0125"), "usd")
	assert.Equal(t, "USD", m.Currency)
	assert.Equal(t, "", Money{Currency: "USD", Empty: true}.String(), "an empty Money writes no amount")
	assert.Equal(t, int32(0), CurrencyDecimals("JPY"))
	assert.Equal(t, int32(2), CurrencyDecimals("USD"))
	assert.Equal(t, int32(3), CurrencyDecimals("BHD"))
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "1505.0", want: "1505"},
		{in: ".00", want: "0"},
		{in: "030", want: "30"},
		{in: "000000", want: "0"},
		{in: " 12.5 ", want: "12.5"},
		{in: "\n  763.20\n", want: "763.2"},
		{in: "-3.20", want: "-3.2"},
		{in: "0.0125", want: "0.0125"},
		{in: "1,000.00", wantErr: true},
		{in: "400,00", wantErr: true},
		{in: "1 000", wantErr: true},
		{in: "1_000", wantErr: true},
		{in: "1e3", wantErr: true},
		{in: "1E3", wantErr: true},
		{in: "", wantErr: true},
		{in: "   ", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "12.5 USD", wantErr: true},
		{in: "NaN", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseAmount(tc.in)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.String())
		})
	}
}

func TestWholeMinorUnits(t *testing.T) {
	for _, tc := range []struct {
		amount, currency string
		want             bool
	}{
		{"1500", "JPY", true}, {"1500.00", "JPY", true}, {"1500.5", "JPY", false},
		{"12.34", "USD", true}, {"12.345", "USD", false},
		{"12.345", "BHD", true}, {"12.3450", "BHD", true}, {"12.3456", "BHD", false},
	} {
		assert.Equal(t, tc.want, NewMoney(decimal.RequireFromString(tc.amount), tc.currency).WholeMinorUnits(), "%s %s", tc.amount, tc.currency)
	}
}
