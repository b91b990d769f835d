// Package re compiles SpamAssassin rule patterns (Perl regular expressions).
package re
