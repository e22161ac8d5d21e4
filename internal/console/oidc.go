package console

import (
	"errors"
	"log/slog"
)

// OIDC is single sign-on through an OpenID Connect provider.
type OIDC struct {
	Issuer, ClientID, ClientSecret string
}

// NewOIDC returns the single sign-on of the given provider, or nil when
// none is configured.
func NewOIDC(issuer, clientID, clientSecret, baseURL string, log *slog.Logger) (*OIDC, error) {
	set := 0
	for _, v := range []string{issuer, clientID, clientSecret} {
		if v != "" {
			set++
		}
	}
	switch set {
	case 0:
		return nil, nil
	case 3:
	default:
		return nil, errors.New("--oidc-issuer, --oidc-client-id and --oidc-client-secret go together: give all three, or none")
	}
	return &OIDC{Issuer: issuer, ClientID: clientID, ClientSecret: clientSecret}, nil
}
