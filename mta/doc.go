// Package mta owns the SMTP front end and local delivery: accepting mail
// with go-smtp, enforcing the tag and reject levels on the scan result,
// delivering into Maildir (INBOX or the junk folder) or to a next hop, and
// the MDA and xfilter modes. It does no scoring.
package mta
