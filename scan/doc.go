// Package scan is the path of one message through gospamd, the one
// service every front end calls: the spamd server (spamdproto), the SMTP
// front end and the deliver/filter commands (mta), `gospamd check`, and
// the IMAP trainer.
//
// # The path of a message
//
// Service.Scan takes the raw bytes, the envelope the front end knows
// (client address, HELO, MAIL FROM, RCPT TO; empty over spamd) and the
// user the message is scanned for, and
//
//  1. validates the user name (no path tricks) and picks its Bayes scope;
//  2. picks the user's engine: the site policy, or the site policy with
//     the user's user_prefs applied, cached per user and rebuilt when the
//     file changes; a policy reload (Service.Reload, SIGHUP) swaps the
//     site engine and this cache together;
//  3. parses the message (tokenizer.Parse, with its limits: malformed
//     mail still gets a score);
//  4. checks it under the caller's context (rules.Engine.Check: the
//     network phase hook, Bayes, the rules, bounded by time_limit and the
//     context's deadline);
//  5. decides autolearn and submits it through the single writer;
//  6. returns a Result that renders the user's markup (report_safe,
//     rewrite_header, add_header of the user's own policy) and carries
//     the verdict (rules.Verdict: ham, tag at required_score, reject at
//     reject_score).
//
// Service.Tell learns or forgets one message through the single writer,
// for spamd's TELL and the IMAP trainer.
//
// # What it does not own
//
// Sockets and protocols: the front ends read their wire format, call the
// service, and write its answer back. Opening the store and starting the
// writer are the caller's (the daemon's) job; the service uses them.
package scan
