// Package cf reads SpamAssassin's .cf policy language into a plain,
// immutable data model: rules, scores, settings and lists. It does not
// compile regular expressions and does not scan mail; the rules engine
// compiles a Policy once and runs it.
//
// # The language
//
// A .cf file is a list of lines "keyword value…". Keywords are
// case-insensitive and '-' equals '_'. A '#' starts a comment unless
// written "\#" (which becomes '#', also inside regexes). There is no line
// continuation: every definition is one line. Blank lines are ignored.
//
// Rules are defined by type, name and test:
//
//	header   FROM_EXAMPLE  From:addr =~ /@example\.com$/i [if-unset: none]
//	header   HAS_LIST_ID   exists:List-Id
//	header   RCVD_IN_X     eval:check_rbl('x-lastexternal', 'x.example.')
//	body     MONEY         /\bmake money fast\b/i
//	rawbody  HTML_COMMENT  /<!--/
//	full     TAB_HEADER    /^\S+:\t/m
//	uri      SHORT_URL     /^https?:\/\/bit\.ly\//
//	mimeheader PDF_PART    Content-Type =~ /application\/pdf/
//	meta     BOTH          (FROM_EXAMPLE && !HAS_LIST_ID) || MONEY + SHORT_URL >= 2
//
// and given attributes per name, in any order relative to the definition:
//
//	score    MONEY 2.5              # all four score sets
//	score    MONEY 0 2.5 0 2.0      # sets 0..3: (Bayes, network) off/on
//	score    MONEY (1)              # relative: +1 to the existing score
//	describe MONEY Offers easy money
//	tflags   MONEY multiple maxhits=3
//	priority MONEY -10
//
// Redefining a name replaces its test and keeps its attributes; a later
// score, describe, tflags or priority line replaces the earlier one. A
// rule without a score line scores 1 (0.01 for names starting "T_";
// negative with tflags nice); "__" rules are sub-rules that only feed
// metas.
//
// Settings (required_score, rewrite_header, add_header, use_bayes,
// trusted_networks…) override earlier values; list settings
// (welcomelist_from, bayes_ignore_header, trusted_networks…) accumulate.
// The 3.x names (whitelist_from, blacklist_to…) fill the 4.0 lists.
//
// # Conditionals and files
//
//	ifplugin Mail::SpamAssassin::Plugin::MIMEHeader
//	  …
//	else
//	  …
//	endif
//	if (version >= 3.004000) && !plugin(Mail::SpamAssassin::Plugin::DCC)
//	if can(Mail::SpamAssassin::Conf::feature_capture_rules)
//	include more.cf
//	lang de describe MONEY Verspricht leichtes Geld
//
// if expressions are Perl arithmetic over plugin(X) (true for the plugins
// in Options.KnownPlugins), can(F)/has(F) (Options.Capabilities), version,
// perl_version, local_tests_only and numbers. Conditionals nest and reset
// at the end of every file. include is relative to the including file; a
// cycle is an error, not a hang. "lang xx" lines apply only when
// Options.Lang starts with xx. require_version other than ours skips the
// rest of the file.
//
// # Layers
//
// LoadSite reads built-in defaults, an optional SpamAssassin rules
// directory and the site directory as one configuration;
// Policy.WithUserPrefs applies a user's preferences on top without
// changing the site policy, refusing privileged lines as spamd does.
//
// # Differences from SpamAssassin
//
// Directives of plugins are known by name whether or not the plugin is
// loaded; those not modelled here are kept as Directives for the engine
// and plugins. An include inside a skipped if-block is skipped (SpamAssassin
// reads it and then loses its own if-state). A malformed if expression is
// an error and its block is skipped (SpamAssassin leaves the if-stack
// unbalanced). Regexes are checked for delimiters, flags and "(?{", not
// compiled.
package cf
