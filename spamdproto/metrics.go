package spamdproto

import "time"

// Outcome is how one request ended. The same words appear in the request
// log line and as metric labels.
type Outcome string

// Outcomes.
const (
	OutcomeHam       Outcome = "ham"        // scanned, not spam
	OutcomeSpam      Outcome = "spam"       // scanned, spam
	OutcomeUnscanned Outcome = "unscanned"  // over MaxMessageSize: answered with score 0
	OutcomeTold      Outcome = "told"       // TELL answered
	OutcomePong      Outcome = "pong"       // PING answered
	OutcomeSkip      Outcome = "skip"       // SKIP: closed without answer
	OutcomeError     Outcome = "error"      // an error line was sent (see the code in the log)
	OutcomeTimeout   Outcome = "timeout"    // EX_TIMEOUT sent
	OutcomeBusy      Outcome = "busy"       // no slot within QueueTimeout, or no room in MaxBufferedBytes: EX_TEMPFAIL sent
	OutcomeConnLimit Outcome = "conn_limit" // over MaxOpenConns: EX_TEMPFAIL sent before reading
	OutcomeIPLimit   Outcome = "ip_limit"   // over MaxConnsPerIP: EX_TEMPFAIL sent before reading
	OutcomePanic     Outcome = "panic"      // a panic was recovered: EX_SOFTWARE sent
)

// ServerMetrics receives the server's counters. cmd/gospamd implements it
// with Prometheus; the default does nothing. Methods are called
// concurrently from connection goroutines.
type ServerMetrics interface {
	// RequestDone is called once per connection from an allowed client:
	// when it was answered, or refused over a connection limit
	// (OutcomeConnLimit, OutcomeIPLimit, verb ""). verb is "" when no
	// request line was understood; elapsed runs from the accept.
	RequestDone(verb Verb, outcome Outcome, elapsed time.Duration)
	// ConnRefused is called for a connection from outside AllowedNets.
	ConnRefused()
	// PanicRecovered is called when a connection goroutine recovers.
	PanicRecovered()
}

type nopMetrics struct{}

func (nopMetrics) RequestDone(Verb, Outcome, time.Duration) {}
func (nopMetrics) ConnRefused()                             {}
func (nopMetrics) PanicRecovered()                          {}
