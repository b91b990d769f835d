// Package netcheck is gospamd's network tests: SpamAssassin's DNSEval
// (DNS blocklists of relay addresses and sender domains), URIDNSBL
// (blocklists of the domains and addresses of a message's URIs), SPF,
// DKIM and DMARC, behind the rule engine's network hook
// (rules.NetChecker).
//
// # How a scan uses it
//
// Checker.Start is called as a scan begins. It reads the policy's net
// rules, works out every query they need (the untrusted relays'
// addresses reversed under each list zone, the registrable domains of
// the URIs under each URI list, the sender's SPF record…) and starts
// them all at once, each in its own goroutine, under one deadline: the
// policy's rbl_timeout, or the daemon's default. It returns at once; the
// local rules run meanwhile. When the engine reaches a net rule it calls
// Eval, which waits for that rule's answers only, until the deadline.
// An answer that has not come by then is a miss: a dead list server
// costs a scan at most the deadline, never an error.
//
// # Which relays
//
// The relays are the tokenizer's parsed Received headers. When the
// policy sets trusted_networks or internal_networks, trust is worked
// out here from them as SpamAssassin does (a relay is trusted while its
// address is in trusted_networks, or 127/8 and ::1); otherwise the
// tokenizer's inference (private addresses and authenticated hops) is
// used. check_rbl's set name suffix picks among the untrusted relays
// (see relays.go).
//
// # What it does not own
//
// DNS itself (rules/resolver: servers, cache, de-duplication), scores
// and thresholds (the policy and the engine), and the report text.
package netcheck
