package web

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCut(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"longer than ten", 10, "longer tha…"},
		{"ééééé", 3, "é…"}, // never in the middle of a rune
		{strings.Repeat("x", 1<<20), 128, strings.Repeat("x", 128) + "…"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, Cut(tc.in, tc.n))
	}
}

func TestParseProxies(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "10.0.0.1", want: []string{"10.0.0.1/32"}},
		{in: "10.0.0.0/8, 2001:db8::/32 ,::1", want: []string{"10.0.0.0/8", "2001:db8::/32", "::1/128"}},
		{in: "10.0.0.0/33", wantErr: true},
		{in: "proxy.example", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseProxies(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			var s []string
			for _, n := range got {
				s = append(s, n.String())
			}
			assert.Equal(t, tc.want, s)
		})
	}
}

func TestMethodLabel(t *testing.T) {
	for m, want := range map[string]string{"GET": "GET", "POST": "POST", "PROPFIND": "other", "M001": "other", "get": "other"} {
		assert.Equal(t, want, methodLabel(m), m)
	}
}
