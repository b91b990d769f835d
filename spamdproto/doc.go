// Package spamdproto owns the SPAMC/SPAMD wire protocol that SpamAssassin's
// spamc, Exim's spam ACL, spamass-milter and Mail::SpamAssassin::Client
// speak: the request and response codec, the server with its limits, and
// the client used by gospamc. It does no scoring.
//
// # The exchange
//
// One request per connection (TCP, default port 783, or a UNIX socket):
//
//	CHECK SPAMC/1.5\r\n          verb and protocol version
//	User: alice\r\n              headers, names case-sensitive
//	Content-length: 203\r\n
//	\r\n
//	<the message>                then spamc half-closes
//
//	SPAMD/1.1 0 EX_OK\r\n
//	Spam: True ; 1000.0 / 5.0\r\n
//	\r\n                         then the server closes
//
// Clients read the answer until EOF, so the server must close. The verbs
// are CHECK, SYMBOLS, REPORT, REPORT_IFSPAM, PROCESS and HEADERS (scan a
// message), TELL (learn or forget it), PING and SKIP. The client's
// version decides which headers the answer carries (see
// WriteScanResponse); spamc and Client.pm always send 1.5. Errors are a
// single `SPAMD/1.0 <code> <text>` line with a sysexits.h code (Error).
//
// The codec follows spamd 4.0.1 byte for byte, quirks included: the Spam
// header's score never rounds up to the threshold for a ham, SYMBOLS has
// no trailing newline from 1.3 on, a TELL answer ends with two empty
// lines, REPORT_IFSPAM says Yes/No where the others say True/False. It is
// more tolerant than spamd in two ways that no client relies on: lines may
// end in a bare LF, and a body with Content-length is read as exactly that
// many bytes (spamd reads whole lines), which is also what makes the Perl
// client, which sends an extra CRLF and never half-closes, work.
//
// # The server
//
// Server serves Scanner and Teller (small interfaces wired to the rules
// engine and the learner in cmd/gospamd) with spamd's limits: allowed
// client networks, a bounded number of concurrent scans, request and scan
// timeouts, a scan size limit. Beyond spamd it bounds open connections
// (in total and per client address) and the message bytes held in memory,
// and reads each request whole before it waits for a scan slot, so slow
// or idle clients cannot starve the others. See Config. TLS (spamd --ssl,
// spamc -S) is a listener wrapped by TLSListener.
//
// # The client
//
// Client is the other side, as spamc speaks it: one method per verb, a
// host list with spamc's failover and retries, UNIX sockets, TLS, and
// answers parsed into a Result, failures into an *Error carrying a
// sysexits.h code. cmd/gospamc builds spamc's command line on it.
//
// Not here: scoring and report text (package rules), learning (package
// learn).
package spamdproto
