package cxml

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// PayloadIDs makes payloadIDs in the time.pid.random@host form the cXML
// guide recommends. A process-wide sequence number makes two IDs of one
// process differ even within one clock tick, and the random part makes two
// processes differ; uniqueness does not depend on the clock.
type PayloadIDs struct {
	Host string
	seq  atomic.Uint64
}

var pid = os.Getpid()

// New returns a fresh payloadID.
func (p *PayloadIDs) New() string {
	var r [6]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails on supported platforms.
	host := p.Host
	if host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("%d.%d.%d%s@%s", time.Now().UnixNano(), pid, p.seq.Add(1), hex.EncodeToString(r[:]), host)
}
