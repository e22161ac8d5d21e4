package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/internal/smtptest"
)

// Mail that was waiting in the outbox when the job queue came (migration
// 00009 lists it in jobs_backfill) gets its job at the next start, once,
// and is sent.
func TestWaitingMailGetsItsJobAtTheNextStart(t *testing.T) {
	for name, dsn := range dbtest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			url := dsn(t)
			first := apptest.Start(t, url, func(c *app.Config) { c.NoWorkers = true })
			now := time.Now().UTC()
			_, err := first.App.DB.W.Exec(first.App.DB.Rebind(`INSERT INTO outbox_mail (id, organization_id, to_address, subject, body, message_id, status, attempts, last_error, created_at)
				VALUES ('mail_old', 'org_demo', 'dana@democorp.example', 'Waiting', 'From before the job queue.', '<mail_old@punchout.gateway>', 'pending', 0, '', ?)`), now)
			require.NoError(t, err)
			_, err = first.App.DB.W.Exec(`INSERT INTO jobs_backfill (kind, ref) VALUES ('send_mail', 'mail_old')`)
			require.NoError(t, err)
			first.Close()

			mailer := smtptest.Start(t)
			second := apptest.Start(t, url, func(c *app.Config) { c.SMTPAddr = mailer.Addr })
			msgs := mailer.Wait(t, 1, 20*time.Second)
			assert.Equal(t, "Waiting", msgs[0].Msg.Header.Get("Subject"))
			second.WaitJobs(t)
			var left int
			require.NoError(t, second.App.DB.R.Get(&left, `SELECT COUNT(*) FROM jobs_backfill`))
			assert.Zero(t, left, "the backfill is emptied")
			var status string
			require.NoError(t, second.App.DB.R.Get(&status, `SELECT status FROM outbox_mail WHERE id = 'mail_old'`))
			assert.Equal(t, "sent", status)
			assert.Len(t, mailer.Messages(), 1, "sent once")
		})
	}
}
