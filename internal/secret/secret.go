// Package secret keeps the gateway's secrets out of its database. Shared
// secrets that buyers send us are stored only as a keyed digest and checked
// in constant time; secrets we must send out later (the e-invoicing
// secret of a Coupa connection) are stored encrypted with AES-256-GCM. Both
// use the server key, which lives outside the database.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// KeySize is the length of a server key in bytes.
const KeySize = 32

// Keyring derives a digest key and an encryption key from the server key,
// so that neither use weakens the other.
type Keyring struct {
	digestKey []byte
	aead      cipher.AEAD
	digests   atomic.Uint64
}

// NewKeyring returns a Keyring for a 32-byte server key.
func NewKeyring(key []byte) (*Keyring, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("server key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(derive(key, "encrypt"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{digestKey: derive(key, "digest"), aead: aead}, nil
}

func derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cxmlgate/" + purpose))
	return m.Sum(nil)
}

// Digest is the keyed digest stored in place of a shared secret.
func (k *Keyring) Digest(secret string) string {
	m := hmac.New(sha256.New, k.digestKey)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))
}

// DigestBytes is Digest before its hex encoding. Every call is counted
// (Digests), so tests can check that authentication spends the same work
// whether or not a credential triple is known.
func (k *Keyring) DigestBytes(secret string) []byte {
	k.digests.Add(1)
	m := hmac.New(sha256.New, k.digestKey)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// Digests is the number of DigestBytes calls so far.
func (k *Keyring) Digests() uint64 { return k.digests.Load() }

// EqualDigest reports, in constant time, whether sum is the digest stored
// as hex in stored.
func EqualDigest(sum []byte, stored string) bool {
	want, err := hex.DecodeString(stored)
	if err != nil {
		return false
	}
	return hmac.Equal(sum, want)
}

// Encrypt seals plain for storage; the result is base64 text.
func (k *Keyring) Encrypt(plain string) (string, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := k.aead.Seal(nonce, nonce, []byte(plain), nil)
	return base64.StdEncoding.EncodeToString(sealed), nil
}

// Decrypt opens what Encrypt sealed.
func (k *Keyring) Decrypt(enc string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", fmt.Errorf("decrypt: %w", err)
	}
	ns := k.aead.NonceSize()
	if len(b) < ns {
		return "", errors.New("decrypt: ciphertext too short")
	}
	plain, err := k.aead.Open(nil, b[:ns], b[ns:], nil)
	if err != nil {
		return "", errors.New("decrypt: wrong server key or corrupted value")
	}
	return string(plain), nil
}

// ParseKey reads a server key written as base64 or hex.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	return nil, fmt.Errorf("server key must be %d bytes as base64 or hex", KeySize)
}

// LoadOrCreateKeyFile reads the server key from path, creating the file
// with a new random key (mode 0600) when it does not exist. It is the
// default for a single-machine install; production sets the key through
// the environment instead.
func LoadOrCreateKeyFile(path string) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, false, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // Another process won the race.
			return LoadOrCreateKeyFile(path)
		}
		return nil, false, err
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		return nil, false, err
	}
	return key, true, f.Sync()
}

// Sign returns a MAC of data under the server key, for tokens the gateway
// hands out and must recognise later (quote references). purpose keeps
// MACs of one kind from being valid as another.
func (k *Keyring) Sign(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, k.digestKey)
	m.Write([]byte("sign/" + purpose + "\x00"))
	m.Write(data)
	return m.Sum(nil)
}

// VerifySignature checks, in constant time, a MAC made by Sign. A
// truncated MAC of at least 16 bytes is accepted.
func (k *Keyring) VerifySignature(purpose string, data, sig []byte) bool {
	if len(sig) < 16 {
		return false
	}
	full := k.Sign(purpose, data)
	return hmac.Equal(full[:len(sig)], sig)
}
