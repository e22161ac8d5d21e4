// Package mail is the gateway's durable mail outbox. A message is queued
// in the same transaction as the change it announces (an agreement, a PO
// balance alert), so a crash can lose none; a sender delivers queued
// messages to the configured SMTP server, each claimed under a lease, with
// exponential backoff and jitter on failure. A message is marked sent only
// after the server accepted it; a crash between the two resends it with
// the same Message-ID, so the receiving side sees one message. Without an
// SMTP server configured, messages stay in the outbox, visible through
// the admin API.
//
// The texts are not here: each package that sends a notification owns
// its words, as text/template files named templates/mail_<notice>.txt
// and embedded with go:embed. Each file defines a "subject" and a "body"
// template, rendered with a typed struct that carries only the data the
// text needs; ParseTemplate checks both at init, so a broken template
// fails every test of its package rather than one send in production.
package mail

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"mime"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
)

// Message is one email.
type Message struct {
	ID             string     `db:"id" json:"id"`
	OrganizationID *string    `db:"organization_id" json:"organization_id,omitempty"`
	To             string     `db:"to_address" json:"to"`
	Subject        string     `db:"subject" json:"subject"`
	Body           string     `db:"body" json:"body"`
	MessageID      string     `db:"message_id" json:"message_id"`
	Status         string     `db:"status" json:"status"`
	Attempts       int        `db:"attempts" json:"attempts"`
	NextAttemptAt  time.Time  `db:"next_attempt_at" json:"next_attempt_at"`
	LeaseUntil     *time.Time `db:"lease_until" json:"-"`
	LastError      string     `db:"last_error" json:"last_error,omitempty"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	SentAt         *time.Time `db:"sent_at" json:"sent_at,omitempty"`
}

const columns = `id, organization_id, to_address, subject, body, message_id, status, attempts, next_attempt_at,
	lease_until, last_error, created_at, sent_at`

// Enqueue adds a message to the outbox inside the caller's transaction.
// An address that is not an email address is refused with errs.Invalid,
// and nothing is stored.
func Enqueue(ctx context.Context, tx sqlx.ExtContext, orgID, to, subject, body string, now time.Time) (*Message, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(to))
	if err != nil {
		return nil, errs.E(errs.Invalid, "%q is not an email address", to)
	}
	m := &Message{
		ID: id.New("mail"), To: a.Address, Subject: subject, Body: body, Status: "pending",
		NextAttemptAt: now.UTC(), CreatedAt: now.UTC(),
	}
	m.MessageID = "<" + m.ID + "@punchout.gateway>"
	if orgID != "" {
		m.OrganizationID = &orgID
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO outbox_mail (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		m.ID, m.OrganizationID, m.To, m.Subject, m.Body, m.MessageID, m.Status, m.Attempts, m.NextAttemptAt,
		m.LeaseUntil, m.LastError, m.CreatedAt, m.SentAt)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// List returns the newest messages, of one organization when orgID is
// set, of one status when status is set.
func List(ctx context.Context, q sqlx.ExtContext, orgID, status string, limit int) ([]Message, error) {
	query := `SELECT ` + columns + ` FROM outbox_mail WHERE 1 = 1`
	var args []any
	if orgID != "" {
		query += ` AND organization_id = ?`
		args = append(args, orgID)
	}
	if status != "" {
		query += ` AND status = ?`
		args = append(args, status)
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	out := []Message{}
	err := sqlx.SelectContext(ctx, q, &out, q.Rebind(query), args...)
	return out, err
}

// Sender delivers the outbox to an SMTP server.
type Sender struct {
	DB   *db.DB
	Addr string // host:port of the SMTP server
	From string
	Log  *slog.Logger
	// Lease is how long a claimed message is reserved for one attempt.
	Lease time.Duration
	// MaxAttempts before a message is parked as failed.
	MaxAttempts int
	Now         func() time.Time
	// Poll is how often the outbox is checked when idle.
	Poll time.Duration
}

func (s *Sender) defaults() {
	if s.Lease == 0 {
		s.Lease = 2 * time.Minute
	}
	if s.MaxAttempts == 0 {
		s.MaxAttempts = 10
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Poll == 0 {
		s.Poll = time.Second
	}
	if s.From == "" {
		s.From = "marketplace@localhost"
	}
}

// Run delivers messages until ctx is done.
func (s *Sender) Run(ctx context.Context) {
	s.defaults()
	t := time.NewTicker(s.Poll)
	defer t.Stop()
	for {
		for {
			sent, err := s.SendOne(ctx)
			if err != nil && ctx.Err() == nil {
				s.Log.Error("mail outbox", "err", err)
			}
			if !sent || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendOne claims one due message and tries to deliver it. It reports
// whether there was a message to try.
func (s *Sender) SendOne(ctx context.Context) (bool, error) {
	s.defaults()
	now := s.Now().UTC()
	var m Message
	err := s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &m, tx.Rebind(`UPDATE outbox_mail SET status = 'sending', lease_until = ?, attempts = attempts + 1
			WHERE id = (SELECT id FROM outbox_mail
				WHERE (status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until < ?)
				ORDER BY next_attempt_at, id LIMIT 1)
			AND ((status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until < ?))
			RETURNING `+columns), now.Add(s.Lease), now, now, now, now)
	})
	if db.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	sendErr := s.deliver(&m)
	now = s.Now().UTC()
	// The outcome is recorded even when ctx ends meanwhile.
	ctx = context.WithoutCancel(ctx)
	err = s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if sendErr == nil {
			_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE outbox_mail SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = '' WHERE id = ?`), now, m.ID)
			return err
		}
		status, next := "pending", now.Add(Backoff(m.Attempts))
		if m.Attempts >= s.MaxAttempts {
			status = "failed"
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE outbox_mail SET status = ?, next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ?`),
			status, next, truncate(sendErr.Error(), 500), m.ID)
		return err
	})
	if sendErr != nil {
		s.Log.Warn("mail not delivered", "mail_id", m.ID, "attempt", m.Attempts, "err", sendErr)
	} else {
		s.Log.Info("mail delivered", "mail_id", m.ID, "to", m.To)
	}
	return true, err
}

// Backoff is the wait before attempt n+1: exponential from 5 seconds,
// capped at an hour, with full jitter so that retries after an outage do
// not arrive together.
func Backoff(attempt int) time.Duration {
	base := 5 * time.Second << min(attempt, 10)
	if base > time.Hour {
		base = time.Hour
	}
	j, _ := rand.Int(rand.Reader, big.NewInt(int64(base/2)))
	return base/2 + time.Duration(j.Int64())
}

func (s *Sender) deliver(m *Message) error {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n",
		s.From, m.To, mimeHeader(m.Subject), m.MessageID, m.CreatedAt.Format(time.RFC1123Z))
	b.WriteString(strings.ReplaceAll(m.Body, "\n", "\r\n"))
	return smtp.SendMail(s.Addr, nil, s.From, []string{m.To}, []byte(b.String()))
}

// mimeHeader encodes a header value that is not plain ASCII.
func mimeHeader(s string) string { return mime.BEncoding.Encode("UTF-8", s) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
