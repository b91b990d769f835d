package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
)

// program is one run of gospamc with its streams.
type program struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configFile     string // spamc.conf, read when present
	// currentUser names the user to scan for when there is no -u.
	currentUser func() (string, error)
}

// defaultConfigFile is where Debian's spamc reads its options, and so
// gospamc too: one file configures both.
const defaultConfigFile = "/etc/spamassassin/spamc.conf"

// effectiveUser is the login name of the effective uid, spamc's default
// User.
func effectiveUser() (string, error) {
	u, err := user.LookupId(strconv.Itoa(os.Geteuid()))
	if err != nil {
		return "", fmt.Errorf("look up the effective user: %w", err)
	}
	return u.Username, nil
}

// main is spamc's main: options, message, request, output, exit status.
func (p *program) main(ctx context.Context, args []string) int {
	log := newLogger(p.stderr)
	args, code := configFileArgs(args, p.configFile, p.stderr)
	if code != exOK {
		return code
	}
	o, code, done := parseOptions(args, p.stdout, p.stderr, log)
	if done {
		return code
	}
	out := &output{stdout: p.stdout, stderr: p.stderr, argv: o.pipeTo}
	return out.finish(p.spamc(ctx, &o, out, log)) & 0xff
}

// spamc runs the request and writes the output; it returns the exit
// status before -e.
func (p *program) spamc(ctx context.Context, o *options, out *output, log *logger) int {
	s := &session{opts: o, user: o.user}
	if !o.hasUser {
		name, err := p.currentUser()
		if err != nil {
			fmt.Fprintf(p.stderr, "gospamc: %v\n", err)
			if !o.check {
				return exOSErr
			}
			// spamc prints the failure line and then carries on, with
			// no User header.
			fmt.Fprint(p.stdout, "0/0\n")
		}
		s.user = name
	}
	s.client, s.setupErr = newClient(o, log)
	if s.setupErr != nil {
		log.errorf(o.logToStderr, "%v", s.setupErr)
	}

	m := &message{typ: msgNone, isSpam: exTooBig}
	ret := exOK
	if !o.ping {
		ret = readMessage(p.stdin, o, m, log)
	}
	if ret == exOK {
		learned := false
		switch {
		case o.learn || o.reportMsg:
			ret, learned = s.tell(ctx, m)
		default:
			ret = s.filter(ctx, m)
		}
		if ret != exOK {
			log.errorf(o.logToStderr, "%s failed with status %d", o.verb(), ret)
		}
		if ret == exOK {
			w := out.writer()
			switch {
			case o.learn:
				fmt.Fprint(p.stdout, map[bool]string{true: "Message successfully un/learned\n", false: "Message was already un/learned\n"}[learned])
				return exOK
			case o.reportMsg:
				fmt.Fprint(p.stdout, map[bool]string{true: "Message successfully reported/revoked\n", false: "Unable to report/revoke message\n"}[learned])
				return exOK
			}
			if m.write(w, o) {
				if (o.check || o.exitCode) && m.isSpam != exTooBig {
					return m.isSpam
				}
				return exOK
			}
		}
	}
	return p.fail(o, m, ret, out)
}

// fail is spamc's safe fallback: what to print and which status to exit
// with when the request did not succeed.
func (p *program) fail(o *options, m *message, ret int, out *output) int {
	result := m.isSpam
	if ret != exOK {
		result = ret
	}
	if o.learn || o.ping {
		out.writer()
		return ret // no fallback for learning and ping
	}
	switch {
	case o.check || o.report || o.reportIfSpam:
		_, _ = io.WriteString(out.writer(), "0/0\n")
	case o.symbols:
		_, _ = io.WriteString(out.writer(), "\n")
	case o.safeFallback || result == exTooBig:
		m.dump(out.writer(), p.stdin, o)
	}
	switch {
	case ret == exTooBig:
		ret = exOK // too big is never an error
	case o.safeFallback:
		ret = exOK
	case o.exitCode:
		ret = result
	}
	if !o.safeFallback && o.unavailTempfail && ret == exUnavailable {
		ret = exTempFail
	}
	return ret
}
