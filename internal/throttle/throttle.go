// Package throttle limits failed authentications: each source address,
// and each account a person signs in to, has a token bucket
// (golang.org/x/time/rate) that every failure drains, and a key whose
// bucket is empty is refused before its request is read any further.
//
// Only failures cost tokens, and only the failing key's. Per source
// (Limiter), a correct credential from another address is never refused
// or slowed. A limit per claimed identity would let anyone lock the real
// owner out by sending its identity with a wrong secret, so machine
// clients (cXML senders, API tokens) are limited per source only; the
// console's password sign-in is limited per account too (Accounts), with
// a gentler limit, because a person's password is guessable where a
// shared secret or a token is not, and single sign-on stays open to the
// account's owner when its password sign-in is throttled.
package throttle

import (
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults: a source may fail 20 times in a row, then once a second.
const (
	DefaultRate    = rate.Limit(1)
	DefaultBurst   = 20
	DefaultSources = 100_000
)

// buckets is a bounded map of token buckets, one per key.
type buckets[K comparable] struct {
	rate  rate.Limit
	burst int
	max   int
	now   func() time.Time
	mu    sync.Mutex
	keys  map[K]*rate.Limiter
}

func newBuckets[K comparable](r rate.Limit, burst, max int, now func() time.Time) *buckets[K] {
	if r <= 0 {
		r = DefaultRate
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	if max <= 0 {
		max = DefaultSources
	}
	if now == nil {
		now = time.Now
	}
	return &buckets[K]{rate: r, burst: burst, max: max, now: now, keys: map[K]*rate.Limiter{}}
}

func (b *buckets[K]) blocked(k K) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	lim, ok := b.keys[k]
	return ok && lim.TokensAt(b.now()) < 1
}

// wait is how long k waits until its next attempt (0 when it has one).
func (b *buckets[K]) wait(k K) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	lim, ok := b.keys[k]
	if !ok {
		return 0
	}
	tokens := lim.TokensAt(b.now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(b.rate) * float64(time.Second))
}

func (b *buckets[K]) fail(k K) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	lim, ok := b.keys[k]
	if !ok {
		if len(b.keys) >= b.max {
			b.forget(now)
		}
		lim = rate.NewLimiter(b.rate, b.burst)
		b.keys[k] = lim
	}
	lim.AllowN(now, 1)
}

func (b *buckets[K]) reset(k K) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.keys, k)
}

// forget makes room for a new key: it drops every key whose bucket has
// filled again (it behaves as a new one would), and if none has, one key
// picked at random (map order), so the map never outgrows max.
func (b *buckets[K]) forget(now time.Time) {
	for k, lim := range b.keys {
		if lim.TokensAt(now) >= float64(b.burst) {
			delete(b.keys, k)
		}
	}
	if len(b.keys) < b.max {
		return
	}
	for k := range b.keys {
		delete(b.keys, k)
		return
	}
}

func (b *buckets[K]) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.keys)
}

// retryAfter is how long an empty bucket waits for its next token.
func (b *buckets[K]) retryAfter() time.Duration {
	d := time.Duration(float64(time.Second) / float64(b.rate))
	if d < time.Second {
		d = time.Second
	}
	return d
}

// Limiter tracks the failures of each source address. The zero value is
// not usable; call New.
type Limiter struct {
	b *buckets[netip.Prefix]
}

// New returns a Limiter that lets each source fail burst times at once and
// r times a second after that, tracking at most maxSources sources (the
// least useful are forgotten first: those whose bucket has filled again).
// now is the clock (time.Now when nil).
func New(r rate.Limit, burst, maxSources int, now func() time.Time) *Limiter {
	return &Limiter{b: newBuckets[netip.Prefix](r, burst, maxSources, now)}
}

// key is the source a limit applies to: the address itself for IPv4, its
// /64 for IPv6 (one subscriber's network, whose addresses cost nothing to
// change). An address that does not parse is one source of its own kind,
// the zero prefix, so garbage cannot mint new keys.
func key(addr string) netip.Prefix {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.WithZone("").Prefix(64)
	return p
}

// Blocked reports whether addr has no failures left: its requests are to
// be refused until its bucket refills.
func (l *Limiter) Blocked(addr string) bool { return l.b.blocked(key(addr)) }

// Fail records a failed authentication from addr.
func (l *Limiter) Fail(addr string) { l.b.fail(key(addr)) }

// Wait is how long addr waits for its next attempt: 0 when it is not
// blocked.
func (l *Limiter) Wait(addr string) time.Duration { return l.b.wait(key(addr)) }

// RetryAfter is how long a blocked source waits for its next attempt.
func (l *Limiter) RetryAfter() time.Duration { return l.b.retryAfter() }

// Len is the number of sources tracked.
func (l *Limiter) Len() int { return l.b.len() }

// Accounts tracks the failed sign-ins of each account, named by its
// normalised email (the caller normalises it; an unknown email is an
// account like any other, so that the answer does not tell which exist).
// Each key is kept as its SHA-256, so a key costs the same memory
// whatever its length, and at most max keys are kept, as Limiter does.
type Accounts struct {
	b *buckets[[sha256.Size]byte]
}

// Defaults of Accounts: 10 failed sign-ins in a row, then one every
// minute.
const (
	DefaultAccountRate     = rate.Limit(1.0 / 60)
	DefaultAccountBurst    = 10
	DefaultAccountsTracked = 100_000
)

// NewAccounts returns an Accounts that lets each account fail burst
// times at once and r times a second after that, tracking at most max
// accounts; zero values take the defaults. now is the clock (time.Now
// when nil).
func NewAccounts(r rate.Limit, burst, max int, now func() time.Time) *Accounts {
	if r <= 0 {
		r = DefaultAccountRate
	}
	if burst <= 0 {
		burst = DefaultAccountBurst
	}
	if max <= 0 {
		max = DefaultAccountsTracked
	}
	return &Accounts{b: newBuckets[[sha256.Size]byte](r, burst, max, now)}
}

func accountKey(account string) [sha256.Size]byte { return sha256.Sum256([]byte(account)) }

// Blocked reports whether account has no failed sign-ins left.
func (a *Accounts) Blocked(account string) bool { return a.b.blocked(accountKey(account)) }

// Fail records a failed sign-in to account.
func (a *Accounts) Fail(account string) { a.b.fail(accountKey(account)) }

// Reset forgets account's failures, after its owner signed in.
func (a *Accounts) Reset(account string) { a.b.reset(accountKey(account)) }

// Wait is how long account waits for its next attempt: 0 when it is not
// blocked.
func (a *Accounts) Wait(account string) time.Duration { return a.b.wait(accountKey(account)) }

// Len is the number of accounts tracked.
func (a *Accounts) Len() int { return a.b.len() }
