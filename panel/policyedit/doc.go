// Package policyedit owns the settings the web panel's Policy page edits:
// the SpamAssassin-style spam policy of the site directory and two
// daemon settings, read as they are in force and written back without
// ever touching a file a person wrote.
//
// # What the page edits
//
// The settings are those of SME Server's E-Mail page: the spam
// sensitivity (a preset, spam_sensitivity veryhigh … verylow, or a
// custom tag level, required_score), the reject level (reject_score,
// ours), whether and how the Subject is rewritten (rewrite_header
// Subject), which DNS block lists are asked (our rbl_list, rhsbl_list
// and uribl_list lines, a list turned off by scoring its rules 0), the
// SPF failure scores (SPF_FAIL, SPF_SOFTFAIL), any other rule score, and
// the global welcome and block lists (welcomelist_from and
// blocklist_from; whitelist_from and blacklist_from are the same lists).
// Two daemon settings sit beside them: whether tagged spam is sorted
// into the junk folder (the SMTP front end's no_junk_sort) and how many
// days the IMAP trainer keeps junk (junk_retention_days).
//
// # Files
//
// The policy is read as the daemon reads it (rules.LoadPolicy: built-in
// rules, rules_dir, then every *.cf of the site directory in name
// order), so the page shows the values in force and the file and line
// each came from. A change is written as one fragment the panel owns,
// 50_panel.cf in the site directory, holding only what differs from the
// other files; the daemon settings go into panel.toml beside the daemon
// config, which the daemon applies over its config file. Every other
// file is only read. A file read after the fragment (say 90_local.cf)
// that sets the same value wins, as any later .cf line does; the page
// then says which file the value in force comes from. The panel never
// fights such a file: a form saved with that field as shown (the value
// in force) drops the panel's own line for it.
//
// # Applying a change
//
// A change is linted first: the site directory is loaded with the
// candidate fragment in place of the current one (in a temporary copy of
// the directory), and any error refuses the change with the lint's
// message while the running policy and the files stay as they were.
// Otherwise the fragment and overlay are replaced atomically (a
// temporary file, fsync, rename, fsync of the directory), the daemon is
// asked to reload as on SIGHUP, and an audit line per changed setting
// (when, who, what: old → new) is appended to panel-audit.log beside the
// overlay.
package policyedit
