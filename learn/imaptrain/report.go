package imaptrain

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"strings"
	"text/tabwriter"
	"time"
)

// A Report is what one pass did, one row per account.
type Report struct {
	Start    time.Time
	Duration time.Duration
	Rows     []Row
}

// A Row is one account's part of a pass.
type Row struct {
	User       string
	Spam       int   // learned as spam (new or relearned)
	Ham        int   // learned as ham (new or relearned)
	Known      int   // already learned as that class: removed, nothing changed
	Junk       int   // messages left in the junk folder
	JunkUnseen int   // of which never opened
	Expired    int   // junk messages older than junk_retention_days, expunged
	Failures   int   // messages left in a learn folder because they could not be learned
	Err        error // the account could not be trained (login, connection, folder)
}

// Failed reports whether any account failed or any message could not be
// learned.
func (r *Report) Failed() bool {
	for _, row := range r.Rows {
		if row.Err != nil || row.Failures > 0 {
			return true
		}
	}
	return false
}

// Eventful reports whether the pass learned, expired or failed anything:
// only such a pass is mailed.
func (r *Report) Eventful() bool {
	for _, row := range r.Rows {
		if row.Err != nil || row.Spam+row.Ham+row.Known+row.Expired+row.Failures > 0 {
			return true
		}
	}
	return false
}

// WriteTable writes the report as an aligned table, one line per user,
// with the errors of failed accounts below it.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "user\tspam\tham\tknown\tjunk\tunseen junk\texpired\tfailures\t")
	var spam, ham, known, junk, unseen, expired, failures int
	for _, row := range r.Rows {
		fails := fmt.Sprint(row.Failures)
		if row.Err != nil {
			fails = "account failed"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", row.User, row.Spam, row.Ham, row.Known,
			row.Junk, row.JunkUnseen, row.Expired, fails)
		spam, ham, known, junk = spam+row.Spam, ham+row.Ham, known+row.Known, junk+row.Junk
		unseen, expired, failures = unseen+row.JunkUnseen, expired+row.Expired, failures+row.Failures
	}
	if len(r.Rows) > 1 {
		fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", spam, ham, known, junk, unseen, expired, failures)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if row.Err != nil {
			if _, err := fmt.Fprintf(w, "%s: %v\n", row.User, row.Err); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendReport mails the report through cfg.ReportRelay.
func sendReport(ctx context.Context, cfg *Config, r *Report) error {
	var body bytes.Buffer
	fmt.Fprintf(&body, "From: %s\r\nTo: %s\r\n", cfg.ReportFrom, cfg.ReportTo)
	fmt.Fprintf(&body, "Subject: gospamd IMAP training report\r\n")
	fmt.Fprintf(&body, "Date: %s\r\n", r.Start.Format(time.RFC1123Z))
	fmt.Fprintf(&body, "Auto-Submitted: auto-generated\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&body, "Messages learned from the %s and %s folders at %s (%s):\r\n\r\n",
		cfg.SpamFolder, cfg.HamFolder, r.Start.Format("2006-01-02 15:04"), r.Duration.Round(time.Millisecond))
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		return err
	}
	body.WriteString(strings.ReplaceAll(table.String(), "\n", "\r\n"))

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.ReportRelay)
	if err != nil {
		return fmt.Errorf("connect to relay: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	host, _, _ := net.SplitHostPort(cfg.ReportRelay)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if err := c.Mail(cfg.ReportFrom); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(cfg.ReportTo); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	wc, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := wc.Write(body.Bytes()); err != nil {
		return fmt.Errorf("send report: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("send report: %w", err)
	}
	return c.Quit()
}
