package console

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestWaitInWords(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Millisecond, "1 second"},
		{time.Second, "1 second"},
		{1500 * time.Millisecond, "2 seconds"},
		{59 * time.Second, "59 seconds"},
		{time.Minute, "1 minute"},
		{61 * time.Second, "2 minutes"},
		{10 * time.Minute, "10 minutes"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, wait(tc.d), tc.d)
	}
}

func TestAccountKey(t *testing.T) {
	assert.Equal(t, "ada@demo.example", accountKey(" Ada@Demo.Example "))
	assert.Equal(t, accountKey("ada@demo.example"), accountKey("<ADA@demo.example>"), "one account however it is written")
	assert.Equal(t, "not an address", accountKey(" Not an Address "))
}
