// Package throttle limits failed authentications per source address: each
// source has a token bucket (golang.org/x/time/rate) that every failure
// drains, and a source whose bucket is empty is refused before its request
// is read any further. Only failures cost tokens, and only the failing
// source's, so a correct credential from another address is never refused
// or slowed; a limit per claimed identity would let anyone lock the real
// buyer out by sending its identity with a wrong secret.
package throttle

import (
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

// Limiter tracks the failures of each source address. The zero value is
// not usable; call New.
type Limiter struct {
	rate    rate.Limit
	burst   int
	max     int
	now     func() time.Time
	mu      sync.Mutex
	sources map[netip.Prefix]*rate.Limiter
}

// New returns a Limiter that lets each source fail burst times at once and
// r times a second after that, tracking at most maxSources sources (the
// least useful are forgotten first: those whose bucket has filled again).
// now is the clock (time.Now when nil).
func New(r rate.Limit, burst, maxSources int, now func() time.Time) *Limiter {
	if r <= 0 {
		r = DefaultRate
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	if maxSources <= 0 {
		maxSources = DefaultSources
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{rate: r, burst: burst, max: maxSources, now: now, sources: map[netip.Prefix]*rate.Limiter{}}
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
func (l *Limiter) Blocked(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.sources[key(addr)]
	return ok && lim.TokensAt(l.now()) < 1
}

// Fail records a failed authentication from addr.
func (l *Limiter) Fail(addr string) {
	k := key(addr)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.sources[k]
	if !ok {
		if len(l.sources) >= l.max {
			l.forget(now)
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.sources[k] = lim
	}
	lim.AllowN(now, 1)
}

// RetryAfter is how long a blocked source waits for its next attempt.
func (l *Limiter) RetryAfter() time.Duration {
	d := time.Duration(float64(time.Second) / float64(l.rate))
	if d < time.Second {
		d = time.Second
	}
	return d
}

// forget makes room for a new source: it drops every source whose bucket
// has filled again (it behaves as a new one would), and if none has, one
// source picked at random (map order), so the map never outgrows max.
func (l *Limiter) forget(now time.Time) {
	for k, lim := range l.sources {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.sources, k)
		}
	}
	if len(l.sources) < l.max {
		return
	}
	for k := range l.sources {
		delete(l.sources, k)
		return
	}
}

// Len is the number of sources tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sources)
}
