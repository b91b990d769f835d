package rules

import (
	"context"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// The network phase. SpamAssassin's network tests (DNSBL, URIBL, SPF and
// the like) are eval rules flagged "net". A NetChecker, when the engine
// has one, starts every lookup a message calls for as soon as the scan
// begins, so that they run while the local rules do; the net eval rules
// then read the answers, waiting at most until the checker's deadline.
// With a NetChecker the score sets with the network bit (1 and 3) apply.
// Without one, net eval rules do not run, as in SpamAssassin's local mode.

// A NetChecker runs the network tests of scans.
type NetChecker interface {
	// Handles reports whether the checker answers eval function name.
	Handles(name string) bool
	// Start begins the lookups for m under pol and returns the scan's
	// handle on their answers. It must not block on the network.
	Start(ctx context.Context, m *tokenizer.Message, pol *cf.Policy) NetScan
}

// A NetScan answers the net eval rules of one scan.
type NetScan interface {
	// Eval answers rule's eval call, waiting for the lookups it needs
	// until the scan's deadline; a lookup without an answer by then is a
	// miss, never an error. details are what the report prints under
	// the rule's description for a hit.
	Eval(ctx context.Context, rule string, call *cf.EvalCall) (hit bool, details []string)
}

// NetTagScan is an optional ability of a NetScan whose lookups read
// capture tags (SpamAssassin 4's HashBL check_hashbl_tag on a tag a
// rule's (?<NAME>…) group sets, see capture.go). The engine runs the
// rules capturing each tag it names before the other rules and hands
// over their values, so that the lookups run while the rest of the
// scan does and are collected with the other answers.
type NetTagScan interface {
	NetScan
	// CaptureTags are the tags the scan's lookups may read.
	CaptureTags() []string
	// SetCaptured starts the lookups of tag's captured values (none
	// when values is empty). Called at most once per tag, before Eval
	// of the rules reading it.
	SetCaptured(tag string, values []string)
}

// AskDNSEval is the eval name under which the engine asks a NetChecker
// about askdns rules (which call no eval): a NetChecker that Handles it
// answers them, with call.Func set to it and the rule's name.
const AskDNSEval = "askdns"

// NetPlugins is an optional ability of a NetChecker: the SpamAssassin
// plugins (short names, "DNSEval") whose rules it answers. A policy
// loaded for it (LoadPolicyFor) reads their ifplugin blocks.
type NetPlugins interface {
	Plugins() []string
}
