package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gospamd/gospamd/spamdproto"
)

// Exit statuses (sysexits.h), as spamc uses them.
const (
	exOK          = spamdproto.EX_OK
	exUsage       = spamdproto.EX_USAGE
	exDataErr     = spamdproto.EX_DATAERR
	exUnavailable = spamdproto.EX_UNAVAILABLE
	exOSErr       = spamdproto.EX_OSERR
	exIOErr       = spamdproto.EX_IOERR
	exTempFail    = spamdproto.EX_TEMPFAIL
	exProtocol    = spamdproto.EX_PROTOCOL
	exConfig      = spamdproto.EX_CONFIG
)

// expansionAllowance is how much longer than -s spamc lets an answer be.
const expansionAllowance = 16384

// verb is the request the options ask for, in spamc's order of
// precedence.
func (o *options) verb() spamdproto.Verb {
	switch {
	case o.check:
		return spamdproto.VerbCheck
	case o.reportIfSpam:
		return spamdproto.VerbReportIfSpam
	case o.report:
		return spamdproto.VerbReport
	case o.symbols:
		return spamdproto.VerbSymbols
	case o.ping:
		return spamdproto.VerbPing
	case o.headers:
		return spamdproto.VerbHeaders
	}
	return spamdproto.VerbProcess
}

// session is one run's spamd connection settings.
type session struct {
	client   *spamdproto.Client
	setupErr error // the TLS files could not be loaded: EX_OSERR when connecting
	user     string
	opts     *options
}

// filter scans the message (spamc's message_filter) and prepares the
// output in m. It returns EX_OK or the failure's status.
func (s *session) filter(ctx context.Context, m *message) int {
	o := s.opts
	m.isSpam = exTooBig
	if s.setupErr != nil {
		m.useMsgForOut()
		return exOSErr
	}
	res, err := s.scanWithRetries(ctx, o.verb(), m.msg)
	if res != nil && o.ping {
		// spamc -K prints the status line's version and code, whatever
		// they are, and reads nothing more.
		m.out = fmt.Appendf(nil, "SPAMD/%s %d\n", res.Version, res.Code)
		m.isSpam = exNotSpam
		return exOK
	}
	if err != nil {
		m.useMsgForOut()
		return exitStatus(err)
	}
	m.out = nil
	if isSpam, score, threshold, ok := spamcVerdict(res); ok {
		m.isSpam = isSpam
		if o.check || (o.reportIfSpam && isSpam == exIsSpam) || o.report {
			m.out = []byte(scoreLine(score, threshold))
		}
	}
	if o.check {
		if m.isSpam == exTooBig {
			m.useMsgForOut()
			return exProtocol
		}
		return exOK
	}
	limit := o.maxSize + expansionAllowance
	if len(m.out)+len(res.Body) > limit {
		m.useMsgForOut()
		return exTooBig
	}
	m.out = append(m.out, res.Body...)
	if o.headers && !appendOriginalBody(m, limit) {
		// spamc then passes the message through and calls it success.
		m.useMsgForOut()
	}
	return exOK
}

// scanWithRetries sends the request, and again (to the next host, after
// --filter-retry-sleep) while no status line came back, up to
// --filter-retries times in all.
func (s *session) scanWithRetries(ctx context.Context, verb spamdproto.Verb, msg []byte) (*spamdproto.Result, error) {
	o := s.opts
	c := *s.client
	for attempt := 1; ; attempt++ {
		res, err := s.scan(ctx, &c, verb, msg)
		var e *spamdproto.Error
		noAnswer := res == nil && errors.As(err, &e) && e.Code == exIOErr
		if !noAnswer || attempt >= o.filterRetries || ctx.Err() != nil {
			return res, err
		}
		if len(c.Hosts) > 1 {
			c.Hosts = append(c.Hosts[1:len(c.Hosts):len(c.Hosts)], c.Hosts[0])
		}
		sleep := time.Duration(o.filterSleep) * time.Second
		if o.filterSleep < 0 {
			sleep = time.Second
		}
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
		}
	}
}

func (s *session) scan(ctx context.Context, c *spamdproto.Client, verb spamdproto.Verb, msg []byte) (*spamdproto.Result, error) {
	z, user := s.opts.compress, s.user
	if s.opts.ping {
		user = "" // with -K spamc sends no User, even with another verb
	}
	switch verb {
	case spamdproto.VerbCheck:
		return c.Check(ctx, user, msg, z)
	case spamdproto.VerbReportIfSpam:
		return c.ReportIfSpam(ctx, user, msg, z)
	case spamdproto.VerbReport:
		return c.Report(ctx, user, msg, z)
	case spamdproto.VerbSymbols:
		return c.Symbols(ctx, user, msg, z)
	case spamdproto.VerbPing:
		return c.Ping(ctx)
	case spamdproto.VerbHeaders:
		return c.Headers(ctx, user, msg, z)
	}
	return c.Process(ctx, user, msg, z)
}

// tell learns or reports the message (spamc's message_tell for -L and
// -C) and says whether the server did what was asked.
func (s *session) tell(ctx context.Context, m *message) (code int, done bool) {
	o := s.opts
	m.isSpam = exTooBig
	if s.setupErr != nil {
		m.useMsgForOut()
		return exOSErr, false
	}
	req := &spamdproto.TellRequest{User: s.user, Message: m.msg}
	switch {
	case o.learn && o.learnType == "forget":
		req.Remove.Local = true
	case o.learn:
		req.Class, req.Set.Local = spamdproto.ClassHam, true
		if o.learnType == "spam" {
			req.Class = spamdproto.ClassSpam
		}
	case o.reportType == "report":
		req.Class, req.Set = spamdproto.ClassSpam, spamdproto.Targets{Local: true, Remote: true}
	default: // revoke
		req.Class, req.Set.Local, req.Remove.Remote = spamdproto.ClassHam, true, true
	}
	res, err := s.client.Tell(ctx, req, false) // spamc never compresses TELL
	if err != nil {
		m.useMsgForOut()
		return exitStatus(err), false
	}
	switch {
	case o.learn && o.learnType == "forget":
		done = res.DidRemove.Local
	case o.learn:
		done = res.DidSet.Local
	case o.reportType == "report":
		done = res.DidSet.Remote
	default:
		done = res.DidRemove.Remote
	}
	return exOK, done
}

// exitStatus maps a client error to the status spamc ends up with. spamc
// never reads the code of an error line: it finds no headers after it
// and fails with EX_IOERR. An answer over the size limit is exTooBig.
func exitStatus(err error) int {
	if errors.Is(err, spamdproto.ErrServerStatus) {
		return exIOErr
	}
	e := spamdproto.AsError(err)
	if e.Code == spamdproto.EX_TOOBIG {
		return exTooBig
	}
	return e.Code
}
