package hostile

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
)

// flood is a 2 MB document of 500,000 empty elements, from the demo Coupa
// connection's credentials with secret.
func flood(payloadID, secret string) []byte {
	return coupaDoc(payloadID, secret, "<ProfileRequest>"+strings.Repeat("<a/>", 500_000)+"</ProfileRequest>")
}

// peakHeap samples the heap in use while fn runs and returns the largest
// value seen. It samples as fast as it can: the flood lasts long enough
// for the peak to be seen.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

func heapNow() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestElementFloodWithWrongSecret posts 32 floods at once with a wrong
// secret. Before, each was built into a full tree (about 80 times its
// size) before its credentials were checked: 32 of them took 5 GB. Now
// the Header is read by a streaming tokenizer and the credentials checked
// before any tree is built, so the flood costs little more than the bodies
// themselves, and the heap is back near where it was afterwards.
func TestElementFloodWithWrongSecret(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		c := clientFrom(t, "127.0.0.1")
		const n = 32
		bodies := make([][]byte, n)
		for i := range bodies {
			bodies[i] = flood(fmt.Sprintf("flood-%d@hostile", i), "wrong-secret")
		}
		size := uint64(len(bodies[0]))
		base := heapNow()
		codes := make([]int, n)
		peak := peakHeap(func() {
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					st, _ := postCXML(t, c, s.URL, bodies[i])
					codes[i] = st.Code
				}()
			}
			wg.Wait()
		})
		after := heapNow()
		for _, code := range codes {
			assert.Contains(t, []int{401, 503}, code, "refused, or answered busy")
		}
		// The test holds the 32 bodies (64 MB) itself; the server reads
		// each into memory once more. Before the fix the peak was about
		// 80 times the bodies.
		growth := int64(peak) - int64(base)
		t.Logf("heap: %d MiB before, peak %d MiB (+%d MiB, %.1fx the %d MiB in flight), %d MiB after",
			base>>20, peak>>20, growth>>20, float64(growth)/float64(n*size), n*size>>20, after>>20)
		assert.Less(t, growth, int64(6*n*size), "peak heap growth under the flood")
		assert.Less(t, int64(after)-int64(base), int64(64<<20), "heap after the flood")
	})
}

// TestFloodBeyondParsingSlots checks the cap on documents parsed at once:
// with every slot taken, a document is answered 503 at once, without
// being parsed or queued, and once a slot is free again it is answered.
func TestFloodBeyondParsingSlots(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		c := clientFrom(t, "127.0.0.1")
		for range cap(s.App.Parsing) {
			s.App.Parsing <- struct{}{}
		}
		st, _ := postCXML(t, c, s.URL, coupaDoc("busy-1@hostile", "coupa-demo-secret", "<ProfileRequest/>"))
		assert.Equal(t, 503, st.Code)
		assert.Contains(t, st.Detail, "send the same document again")
		<-s.App.Parsing
		st, _ = postCXML(t, c, s.URL, coupaDoc("busy-1@hostile", "coupa-demo-secret", "<ProfileRequest/>"))
		assert.Equal(t, 200, st.Code, "the same payloadID is processed once a slot is free: the 503 was not logged as an answer")
		for range cap(s.App.Parsing) - 1 {
			<-s.App.Parsing
		}
		require.True(t, bytes.Contains(get(t, s.URL+"/metrics"), []byte(`code="503"`)))
	})
}
