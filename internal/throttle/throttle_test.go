package throttle

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLimiter(t *testing.T) {
	tests := []struct {
		name        string
		addr        string // the source that fails
		fails       int
		wait        time.Duration
		other       string // a source checked after addr failed
		wantBlocked bool
		wantOther   bool
	}{
		{name: "under the burst", addr: "192.0.2.7", fails: 19},
		{name: "burst used up", addr: "192.0.2.7", fails: 20, wantBlocked: true},
		{name: "another source is not blocked", addr: "192.0.2.7", fails: 50, other: "192.0.2.8", wantBlocked: true},
		{name: "refills with time", addr: "192.0.2.7", fails: 20, wait: 2 * time.Second},
		{name: "IPv6 in the same /64 shares a bucket", addr: "2001:db8:1:2::1", fails: 20, other: "2001:db8:1:2::99", wantBlocked: true, wantOther: true},
		{name: "IPv6 in another /64 does not", addr: "2001:db8:1:2::1", fails: 20, other: "2001:db8:1:3::1", wantBlocked: true},
		{name: "IPv4-mapped IPv6 is the IPv4 address", addr: "192.0.2.7", fails: 20, other: "::ffff:192.0.2.7", wantBlocked: true, wantOther: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
			l := New(1, 20, 0, c.now)
			for range tc.fails {
				l.Fail(tc.addr)
			}
			c.advance(tc.wait)
			require.Equal(t, tc.wantBlocked, l.Blocked(tc.addr))
			if tc.other != "" {
				require.Equal(t, tc.wantOther, l.Blocked(tc.other))
			}
		})
	}
}

// TestLimiterBounded floods the limiter with new sources: it never tracks
// more than its maximum, and a blocked source stays blocked while
// sources whose buckets refilled are forgotten first.
func TestLimiterBounded(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	l := New(1, 5, 100, c.now)
	for range 5 {
		l.Fail("198.51.100.1")
	}
	for i := range 10_000 {
		l.Fail(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		require.LessOrEqual(t, l.Len(), 100)
		if i%99 == 0 {
			c.advance(10 * time.Second) // the flood's buckets refill
			for range 5 {
				l.Fail("198.51.100.1") // the attacker keeps failing
			}
		}
	}
	require.True(t, l.Blocked("198.51.100.1"))
	require.False(t, l.Blocked("not an address"))
}

// TestAccounts: an account is blocked after its burst of failures, for
// as long as Wait says; another account and a reset one are not; and the
// number of accounts kept stays bounded however many are tried.
func TestAccounts(t *testing.T) {
	tests := []struct {
		name      string
		fails     int
		advance   time.Duration
		reset     bool
		blocked   bool
		wait      time.Duration
		otherFree bool
	}{
		{name: "under the burst", fails: 2},
		{name: "burst used up", fails: 3, blocked: true, wait: time.Minute},
		{name: "failing while blocked costs nothing more", fails: 5, blocked: true, wait: time.Minute},
		{name: "refills with time", fails: 3, advance: time.Minute},
		{name: "half refilled", fails: 3, advance: 30 * time.Second, blocked: true, wait: 30 * time.Second},
		{name: "a sign-in resets it", fails: 3, reset: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
			a := NewAccounts(1.0/60, 3, 0, c.now)
			for range tc.fails {
				a.Fail("ada@example.com")
			}
			c.advance(tc.advance)
			if tc.reset {
				a.Reset("ada@example.com")
			}
			require.Equal(t, tc.blocked, a.Blocked("ada@example.com"))
			require.InDelta(t, tc.wait.Seconds(), a.Wait("ada@example.com").Seconds(), 0.01)
			require.False(t, a.Blocked("grace@example.com"), "another account")
		})
	}

	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	a := NewAccounts(1.0/60, 3, 50, c.now)
	for i := range 5_000 {
		a.Fail(fmt.Sprintf("user%d@example.com", i))
		require.LessOrEqual(t, a.Len(), 50)
	}
}

func TestLimiterWait(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	l := New(1, 2, 0, c.now)
	require.Zero(t, l.Wait("192.0.2.7"))
	l.Fail("192.0.2.7")
	l.Fail("192.0.2.7")
	require.Equal(t, time.Second, l.Wait("192.0.2.7"))
	c.advance(time.Second)
	require.Zero(t, l.Wait("192.0.2.7"))
}
