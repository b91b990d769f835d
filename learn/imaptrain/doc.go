// Package imaptrain trains the Bayes store from IMAP folders, the way
// SME Server's users train SpamAssassin: a user moves spam that got
// through into a LearnAsSpam folder and copies false positives out of
// the junk folder into LearnAsHam; a pass of the trainer learns every
// message it finds there, deletes it, and reports per user what it
// learned and how much mail waits in the junk folder.
//
// # Mailbox → class
//
// The mapping is three-way: the spam folder teaches spam, the ham folder
// teaches ham, and every other folder is neutral. In particular a
// message deleted into Trash, or left in the junk folder, is never
// learned as anything (the cron-and-sieve setups this replaces learn
// "moved out of Junk" as ham and so learn deleted spam as ham).
//
// # The order that keeps mail safe
//
// A message is removed from its learn folder (UID STORE \Deleted and UID
// EXPUNGE, or MOVE to an archive folder) only after its learn is
// committed by the single writer (learn.Writer, directly or through a
// running daemon's admin socket). A message that cannot be fetched or
// learned stays where it is and is counted as a failure. A crash between
// commit and removal is repaired by the next pass: the seen index makes
// the second learn a no-op, and the message is removed then.
//
// # What it talks to
//
// Any IMAP4rev1 server, through go-imap v2's client (Dial): plain, TLS or
// STARTTLS; each account with its own password file, or every user
// through one Dovecot master user ("user*master"). go-imap's commands
// take no context, so a connection is closed when its context ends. The
// junk folder's messages older than junk_retention_days (INTERNALDATE)
// are expunged by the pass.
//
// The daemon runs Trainer.Run (a pass every poll_interval) on its own
// writer; `gospamd train --once` runs one pass and prints the report.
// The package does not parse or score mail: a Learner does the learning.
package imaptrain
