package punchout

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/secret"
)

// QuoteRef is what a cart line promises: this offer, at this revision,
// quoted in this session. It travels to the procurement system as the
// line's SupplierPartAuxiliaryID and comes back in the OrderRequest, where
// its signature proves the gateway issued it, and its revision tells
// whether the seller changed the offer while approval was pending.
type QuoteRef struct {
	OfferID   string
	Revision  int
	SessionID string
}

const quotePrefix = "q1."

// Encode writes the reference as an opaque, signed, XML-safe token.
func (q QuoteRef) Encode(keys *secret.Keyring) string {
	payload := []byte(q.OfferID + "\x1f" + strconv.Itoa(q.Revision) + "\x1f" + q.SessionID)
	sig := keys.Sign("quote", payload)[:18]
	enc := base64.RawURLEncoding
	return quotePrefix + enc.EncodeToString(payload) + "." + enc.EncodeToString(sig)
}

// DecodeQuote reads and verifies a reference made by Encode. Any
// tampering, or a reference from another gateway, is an Invalid error.
func DecodeQuote(keys *secret.Keyring, s string) (QuoteRef, error) {
	q, ok := decodeQuote(keys, s)
	if !ok {
		return QuoteRef{}, errs.E(errs.Invalid, "the SupplierPartAuxiliaryID %q is not a quote reference issued by this gateway; return to the catalog and request approval again", truncate(s, 80))
	}
	return q, nil
}

func decodeQuote(keys *secret.Keyring, s string) (QuoteRef, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), quotePrefix)
	if !ok {
		return QuoteRef{}, false
	}
	p64, s64, ok := strings.Cut(rest, ".")
	if !ok {
		return QuoteRef{}, false
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p64)
	sig, err2 := enc.DecodeString(s64)
	if err1 != nil || err2 != nil || !keys.VerifySignature("quote", payload, sig) {
		return QuoteRef{}, false
	}
	parts := strings.Split(string(payload), "\x1f")
	if len(parts) != 3 {
		return QuoteRef{}, false
	}
	rev, err := strconv.Atoi(parts[1])
	if err != nil {
		return QuoteRef{}, false
	}
	return QuoteRef{OfferID: parts[0], Revision: rev, SessionID: parts[2]}, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
