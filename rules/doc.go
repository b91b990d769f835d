// Package rules owns the policy and the scan engine: the SpamAssassin .cf
// language, compiling rules once into an immutable rule set, running them
// over a tokenizer.Message, the eval functions (check_bayes among them),
// network checks, thresholds, and the X-Spam-* markup of the result.
//
// It does not own sockets: front ends (spamdproto, mta) call Engine.Check.
package rules
