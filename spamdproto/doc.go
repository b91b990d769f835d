// Package spamdproto owns the SPAMC/SPAMD wire protocol that SpamAssassin's
// spamc, Exim's spam ACL, spamass-milter and Mail::SpamAssassin::Client
// speak: the request and response codec, the server with its limits, and
// the client used by gospamc. It does no scoring.
package spamdproto
