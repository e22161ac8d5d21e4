// Package mail is the gateway's durable mail outbox. A message is queued
// in the same transaction as the change it announces (an agreement, a PO
// balance alert), together with the job that sends it (Outbox.Enqueue),
// so a crash can lose none. The job runs on the gateway's job queue
// (internal/jobs, River), which retries a refused or failed delivery
// with backoff and jitter; Sender is its worker, and sends through
// go-mail with timeouts and TLS. A message is marked sent only after the
// server accepted it; a crash between the two resends it with the same
// Message-ID, so the receiving side sees one message. Without an SMTP
// server configured, no gateway works the mail queue: messages stay in
// the outbox, visible through the admin API, until one with a server
// starts.
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
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	gomail "github.com/wneessen/go-mail"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/jobs"
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
	LastError      string     `db:"last_error" json:"last_error,omitempty"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	SentAt         *time.Time `db:"sent_at" json:"sent_at,omitempty"`
}

const columns = `id, organization_id, to_address, subject, body, message_id, status, attempts,
	last_error, created_at, sent_at`

// SendMail is the job that sends one message of the outbox.
type SendMail struct {
	MailID string `json:"mail_id"`
}

// Kind names the job in the queue.
func (SendMail) Kind() string { return "send_mail" }

// InsertOpts puts the job on the mail queue, tried up to 10 times.
func (SendMail) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueMail, MaxAttempts: maxAttempts}
}

// maxAttempts is how many times a message is tried before it is parked
// as failed: River's backoff spreads ten attempts over about three hours.
const maxAttempts = 10

// Jobs inserts a job in the caller's transaction (jobs.Queue).
type Jobs interface {
	Insert(ctx context.Context, tx *sqlx.Tx, args river.JobArgs) error
}

// Outbox queues messages.
type Outbox struct {
	Jobs Jobs
}

// Enqueue adds a message to the outbox, and the job that sends it,
// inside the caller's transaction. An address that is not an email
// address is refused with errs.Invalid, and nothing is stored.
func (o *Outbox) Enqueue(ctx context.Context, tx *sqlx.Tx, orgID, to, subject, body string, now time.Time) (*Message, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(to))
	if err != nil {
		return nil, errs.E(errs.Invalid, "%q is not an email address", to)
	}
	m := &Message{ID: id.New("mail"), To: a.Address, Subject: subject, Body: body, Status: "pending", CreatedAt: now.UTC()}
	m.MessageID = "<" + m.ID + "@punchout.gateway>"
	if orgID != "" {
		m.OrganizationID = &orgID
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO outbox_mail (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		m.ID, m.OrganizationID, m.To, m.Subject, m.Body, m.MessageID, m.Status, m.Attempts,
		m.LastError, m.CreatedAt, m.SentAt)
	if err != nil {
		return nil, err
	}
	if err := o.Jobs.Insert(ctx, tx, SendMail{MailID: m.ID}); err != nil {
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

// TLS says how Sender secures its connection to the SMTP server.
type TLS string

// The TLS policies.
const (
	// TLSOpportunistic uses STARTTLS when the server offers it (the
	// default).
	TLSOpportunistic TLS = "opportunistic"
	// TLSMandatory sends nothing to a server without STARTTLS.
	TLSMandatory TLS = "mandatory"
	// TLSImplicit connects with TLS from the first byte (SMTPS, port
	// 465).
	TLSImplicit TLS = "implicit"
)

// Sender is the worker of SendMail: it delivers a message to the SMTP
// server.
type Sender struct {
	river.WorkerDefaults[SendMail]

	DB   *db.DB
	Addr string // host:port of the SMTP server
	From string
	TLS  TLS
	// Username and Password, when set, authenticate to the server
	// (SMTP AUTH PLAIN, or LOGIN where the server offers only that); go-mail
	// sends them over TLS only.
	Username, Password string
	Log                *slog.Logger
	Now                func() time.Time
	// DialTimeout bounds each connection to the server (default 30 s).
	DialTimeout time.Duration
}

// Work sends one message. A refusal or a dead server returns the error,
// and River tries again later; at the last attempt the message is parked
// as failed.
func (s *Sender) Work(ctx context.Context, job *river.Job[SendMail]) error {
	now := s.now()
	var m Message
	err := s.DB.R.GetContext(ctx, &m, s.DB.Rebind(`SELECT `+columns+` FROM outbox_mail WHERE id = ?`), job.Args.MailID)
	if db.IsNoRows(err) {
		return nil // Deleted since: nothing to send.
	}
	if err != nil {
		return err
	}
	if m.Status != "pending" {
		return nil
	}
	sendErr := s.deliver(ctx, &m)
	now = s.now()
	// The outcome is recorded even when ctx ends meanwhile.
	ctx = context.WithoutCancel(ctx)
	err = s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if sendErr == nil {
			_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE outbox_mail SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?`), now, m.ID)
			return err
		}
		status := "pending"
		if job.Attempt >= job.MaxAttempts {
			status = "failed"
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE outbox_mail SET status = ?, attempts = attempts + 1, last_error = ? WHERE id = ?`),
			status, truncate(sendErr.Error(), 500), m.ID)
		return err
	})
	if err != nil {
		return err
	}
	if sendErr != nil {
		s.Log.Warn("mail not delivered", "mail_id", m.ID, "attempt", job.Attempt, "err", sendErr)
		return sendErr
	}
	s.Log.Info("mail delivered", "mail_id", m.ID)
	return nil
}

func (s *Sender) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Sender) deliver(ctx context.Context, m *Message) error {
	host, portText, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("SMTP server %q: %w", s.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("SMTP server %q: port %q is not a number", s.Addr, portText)
	}
	timeout := s.DialTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout)}
	switch s.TLS {
	case TLSMandatory:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return err
	}
	msg := gomail.NewMsg()
	from := s.From
	if from == "" {
		from = "marketplace@localhost"
	}
	if err := msg.From(from); err != nil {
		return fmt.Errorf("sender address %q: %w", from, err)
	}
	if err := msg.To(m.To); err != nil {
		return errors.Join(fmt.Errorf("recipient %q", m.To), err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(strings.Trim(m.MessageID, "<>"))
	msg.SetDateWithValue(m.CreatedAt)
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	return c.DialAndSendWithContext(ctx, msg)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
