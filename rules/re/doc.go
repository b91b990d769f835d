// Package re compiles the Perl regular expressions of SpamAssassin rules
// so that they match what SpamAssassin 4.0 matches.
//
// SpamAssassin compiles a rule's pattern as qr/(?flags)expr/aa and runs
// it over byte strings. This package parses the Perl syntax itself and
// writes each pattern out for one of two engines: Go's regexp (RE2,
// linear time) when RE2 gives Perl's answers, else a backtracking engine
// (github.com/dlclark/regexp2) with a time limit per match, for
// lookaround, backreferences, atomic groups, possessive quantifiers and
// the few anchors that only translate in context. Every consuming
// element becomes an explicit set of bytes, so neither engine's notion of
// \w, \s, case folding or "." is relied on.
//
// # The subject is bytes
//
// The string given to MatchString holds the bytes Perl would see: the
// engine passes the text as SpamAssassin has it (UTF-8 after decoding,
// or raw 8-bit bytes); it need not be valid UTF-8. Matching follows Perl
// on a byte string under /aa:
//
//   - "." and every class match one byte: /^.{3}$/ matches "äb" (three
//     bytes) and /a.b/ does not match "aäb".
//   - \xHH and raw 8-bit bytes in the pattern are bytes: /\xe4/ matches
//     the Latin-1 byte 0xE4, not "ä"; /\xc3\xa4/ matches "ä".
//   - \d \w \s \b and POSIX classes are ASCII; \s includes VT; \h and \v
//     include NBSP (0xA0) and NEL (0x85).
//   - /i folds ASCII letters with ASCII letters and Latin-1 letters with
//     Latin-1 letters (0xC4 with 0xE4); "k" never matches KELVIN SIGN.
//   - "$" and "\Z" without /m match at the end or before a final "\n";
//     "^" with /m does not match after a "\n" that ends the subject.
//
// A pattern none of whose sets contains a byte >= 0x80 runs on the
// subject as it is (multi-byte characters are then barriers, exactly as
// their bytes are in Perl). The others run on the subject's Latin-1
// view, each byte b turned into the rune b, built only when the subject
// is not ASCII. Offsets are always byte offsets into the subject. Text
// prepares a subject once for many patterns.
//
// # Backtracking patterns without backtracking
//
// A pattern on the backtracking engine is only run where a relaxed dfa
// (lookarounds dropped, a backreference matching anything) says it may
// match. Whether it matches is then decided without backtracking for
// two common shapes, by dfas that report every position where a piece
// of the pattern ends: X(G)Y\N Z, one group and one backreference to it
// at the top level (refSolver), and patterns whose lookarounds all
// stand at the top level (lookSolver); a trailing positive lookahead
// counts as more pattern for both. A long counted repeat of one set
// between the group and its backreference (.{1,2048}) is not walked:
// the stretch it spans is searched for the captured string (refGap).
// Positions, captures and counts of matches still come from the
// backtracking engine.
//
// # Prefilter
//
// Literals gives strings of which every match holds one (ASCII-lower-
// cased); Prefilter runs one Aho-Corasick pass over a subject to find
// the patterns that can match it at all.
//
// # Not supported
//
// \X, \N{NAME}, \b{…}, branch reset (?|…), recursion and conditionals
// are compile errors; \K is ignored (it only moves where a reported
// match starts); \G is \A. Patterns SpamAssassin refuses because Perl
// warns (unknown escapes such as \Q at run time, a "{" after an atom
// that is not a quantifier, nested quantifiers) are refused too.
package re
