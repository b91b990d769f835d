package spamdproto

import "context"

// Scanner scans one message for one user. It is the whole of the scoring
// engine as the server sees it; cmd/gospamd wires the rules engine in.
//
// Scan must be safe for concurrent use: the server calls it from one
// goroutine per connection, at most Config.MaxConns at once. An error
// wrapping an *Error is answered with that Error's code; a context
// deadline with EX_TIMEOUT; anything else with EX_SOFTWARE (the cause is
// logged, never sent).
type Scanner interface {
	Scan(ctx context.Context, req *ScanRequest) (ScanResult, error)
}

// ScanRequest is one message to scan. Message is the raw message as the
// client sent it (inflated if it came compressed); the server does not
// keep it after Scan returns, so Scan may retain it.
type ScanRequest struct {
	User    string // value of the User header, "" when absent
	Message []byte
}

// ScanResult is what a verb's answer is built from.
type ScanResult interface {
	Score() float64     // total, already rounded to 3 decimals by the engine
	Threshold() float64 // required_score for this user
	IsSpam() bool       // Score() >= Threshold()
	Symbols() []string  // rule names hit, any order: the server sorts a copy
	Report() string     // REPORT body text
	Rewritten() []byte  // the full message with markup, for PROCESS and HEADERS
}

// RequiredScorer is an optional Scanner ability: the threshold that
// applies to a user, without scanning. The server uses it to answer for
// messages over Config.MaxMessageSize, which it does not scan; without it
// such answers show the SpamAssassin default, 5.0.
type RequiredScorer interface {
	RequiredScore(user string) float64
}

// DefaultRequiredScore is SpamAssassin's default required_score.
const DefaultRequiredScore = 5.0

// Teller learns and forgets messages for TELL (spamc -L and -C). A nil
// Teller disables TELL, as spamd does without --allow-tell.
//
// Tell must be safe for concurrent use. It reports what it actually
// changed: learning an already-learned message, or forgetting an unknown
// one, sets nothing (spamc then prints "Message was already un/learned").
// Stripping SpamAssassin markup from a message that carries
// X-Spam-Checker-Version is the Teller's job, as are remote reports.
type Teller interface {
	Tell(ctx context.Context, req *TellRequest) (TellResult, error)
}

// Class is the class a TELL Set applies.
type Class string

// The two classes. spamd treats Message-class "spam" (exactly) as spam and
// any other value, or none, as ham.
const (
	ClassSpam Class = "spam"
	ClassHam  Class = "ham"
)

// Targets names the databases a TELL acts on: local is Bayes, remote is
// the collaborative networks (Razor, Pyzor, DCC).
type Targets struct {
	Local  bool
	Remote bool
}

// Any reports whether any target is set.
func (t Targets) Any() bool { return t.Local || t.Remote }

// String renders the targets as spamd writes them: "local", "remote",
// "local,remote", or "".
func (t Targets) String() string {
	switch {
	case t.Local && t.Remote:
		return "local,remote"
	case t.Local:
		return "local"
	case t.Remote:
		return "remote"
	}
	return ""
}

// TellRequest is one TELL. The server has already refused a Set and a
// Remove of the same target in one request.
type TellRequest struct {
	User    string
	Message []byte
	Class   Class   // for Set
	Set     Targets // learn (local) / report (remote)
	Remove  Targets // forget (local) / revoke (remote)
}

// TellResult is what a Tell changed; it becomes the DidSet and DidRemove
// answer headers.
type TellResult struct {
	DidSet    Targets
	DidRemove Targets
}
