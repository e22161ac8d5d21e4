package hostile

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
)

// TestMetricSeriesAreBounded sends 5,000 documents whose request element
// names are all different, with a wrong secret and with the right one,
// and 200 requests with made-up HTTP methods. Before, each name became a
// label value of punchout_cxml_requests_total: 5,000 new series, and
// 1 MiB names grew /metrics by as much. Now labels come from a fixed set.
func TestMetricSeriesAreBounded(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		c := clientFrom(t, "127.0.0.1")
		before := get(t, s.URL+"/metrics")
		const n = 5000
		var wg sync.WaitGroup
		work := make(chan int)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					secret := "wrong-secret"
					if i%2 == 0 {
						secret = "coupa-demo-secret"
					}
					name := fmt.Sprintf("Request%05d%s", i, strings.Repeat("X", 200))
					st, _ := postCXML(t, c, s.URL, coupaDoc(fmt.Sprintf("metrics-%d@hostile", i), secret, "<"+name+"/>"))
					if secret == "wrong-secret" {
						assert.Equal(t, 401, st.Code)
					} else {
						assert.Equal(t, 450, st.Code)
					}
				}
			}()
		}
		for i := range n {
			work <- i
		}
		close(work)
		wg.Wait()
		for i := range 200 {
			req, err := http.NewRequest(fmt.Sprintf("M%03d", i), s.URL+"/cxml", nil)
			require.NoError(t, err)
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
		}
		after := get(t, s.URL+"/metrics")
		t.Logf("/metrics: %d gateway samples, %d bytes before; %d samples, %d bytes after", series(before), len(before), series(after), len(after))
		// New series: the "other" request type with codes 401, 450 and 400
		// (the made-up methods), the method "other", and the HTTP routes
		// and statuses seen; a few dozen samples with the histogram.
		assert.Less(t, series(after)-series(before), 100, "metric samples added by 5,200 hostile requests")
		assert.Less(t, len(after), 64<<10, "size of /metrics")
		assert.NotContains(t, string(after), "Request0")
		assert.NotContains(t, string(after), "M001")
	})
}
