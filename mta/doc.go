// Package mta is gospamd's SMTP front end and local delivery: it accepts
// mail with go-smtp, asks the scan service for a verdict, and files each
// recipient's copy by it into Maildir (the INBOX or the junk folder); the
// same pipeline serves `gospamd deliver`. It does no scoring.
//
// # The SMTP transaction
//
// RCPT: a client on a blocklist is refused (see below); the
// recipient's domain must be local (else "554 5.7.1 Relaying
// denied", never relaying), its mailbox must be in the routes file
// ("user domain maildir"; for user+ext an exact user+ext route wins,
// else user's), and the sender and recipient must not match badmailfrom,
// badrcptto or a badmailfromto pair; all three are answered as an
// unknown user ("550 5.1.1"). Spam-trap addresses are accepted.
//
// DATA: a message over max_size gets "552 5.3.4" (at MAIL when SIZE= is
// declared); one without From or Date "554 5.6.0" unless the client's
// network is exempt. Then each distinct user is scanned once (the user's
// user_prefs, Bayes scope and tag level apply) and each copy filed
// (filing.go): below the tag level to the INBOX, at or over it to the
// junk folder, both with the user's markup. At or over the reject level
// the message is refused with "554 5.7.1", but only when every recipient
// refuses it: a recipient who would take it gets it, and the others'
// reject-level copies go to their junk folders. delete_score, when set,
// drops spam at or over it (logged). Spam-trap copies are learned as
// spam through the single writer and not delivered.
//
// # Never lose mail
//
// The answer is 250 only once every copy is durable: all copies (and the
// bcc_archive copy) are written into tmp/, fsynced, renamed into new/ and
// new/ is fsynced, as one all-or-none transaction (package maildir). A
// failing scan, store or Maildir answers "451 4.3.0" with nothing left in
// any new/; the client retries.
//
// # Connections
//
// Beyond max_connections or max_connections_per_ip a client gets "421
// 4.7.0" before go-smtp sees it; with greet_delay a client that talks
// before the greeting gets "554 5.5.0"; while the 1-minute load average
// exceeds max_load, MAIL gets "451 4.3.2". go-smtp passes no context: a
// session's ctx is made in NewSession and cancelled in Logout, and every
// scan runs under it with scan_timeout.
//
// # Next hop
//
// With next_hop, the filed copies go to an LMTP or SMTP server (Dovecot's
// LMTP, say) instead of Maildir, each with its user's markup; copies that
// differ go as separate transactions (nexthop.go). Junk and INBOX are
// the same there: the next hop files by X-Spam-Flag (a Sieve rule). 250
// only when the next hop took every copy (over LMTP, each recipient's
// own reply counts); otherwise "451 4.3.0", or "550 5.0.0" when it
// refused every recipient for good.
//
// # Blocklists at connect time
//
// With dnsbl_reject (and the daemon's [dns] resolver), the client's
// address is looked up in each DNS blocklist as it connects (reversed
// IPv4, nibble IPv6, RFC 5782), all lists at once under one deadline,
// dnsbl_timeout, while the client reads the greeting and says EHLO. The
// answer comes at RCPT, as in SME Server's qpsmtpd dnsbl plugin: a
// client listed with an answer in 127.0.0.0/24 gets "554 5.7.1 ...
// blocked using ZONE" for every recipient but postmaster and abuse
// (dnsbl_exempt_rcpt), before the recipient itself is checked, so a
// listed client learns nothing of who exists. Other answers
// (127.255.255.254: query refused), timeouts and SERVFAIL are logged
// and count as not listed; RCPT never waits past the deadline.
// Loopback, private and link-local clients and header_checks_exempt
// networks are never looked up, unless a "!" entry of
// dnsbl_exempt_networks says otherwise (dnsbl.go).
package mta
