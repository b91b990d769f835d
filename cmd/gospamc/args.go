package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// spamc parses its command line with its own getopt, not GNU's, and
// gospamc copies it rather than using pflag, because the differences
// change what a command line means:
//
//   - a short option is one letter per word: "-cu user" is -c alone (the
//     "u" is ignored) and then "user" ends the options;
//   - an option's argument is always the next word, which must not start
//     with "-": "-uuser" and "-s -1" are usage errors;
//   - the first word that is not an option ends the options, silently;
//   - long options take "--name value" or "--name=value"; --ssl and the
//     --ssl-* options take an optional argument, the next word when it
//     does not start with "-".
//
// spamc also prepends the words of its configuration file
// (/etc/spamassassin/spamc.conf, or -F file) to the command line.

// shortOptions is spamc's option string: a letter followed by ':' takes
// an argument.
const shortOptions = "BcrR46d:e:fyp:n:t:s:u:L:C:xXzSHU:ElhVKF:0:1:2"

// Option identifiers of the long options that have no letter.
const (
	optConnectRetries = iota
	optRetrySleep
	optHeaders
	optFilterRetries
	optFilterRetrySleep
	optSSLCert
	optSSLKey
	optSSLCAFile
	optSSLCAPath
)

type argKind int

const (
	noArgument argKind = iota
	requiredArgument
	optionalArgument
)

type longOption struct {
	name string
	arg  argKind
	id   int // the short letter, or an opt* constant
}

var longOptions = []longOption{
	{"dest", requiredArgument, 'd'},
	{"randomize", noArgument, 'H'},
	{"port", requiredArgument, 'p'},
	{"ssl", optionalArgument, 'S'},
	{"ssl-cert", optionalArgument, optSSLCert},
	{"ssl-key", optionalArgument, optSSLKey},
	{"ssl-ca-file", optionalArgument, optSSLCAFile},
	{"ssl-ca-path", optionalArgument, optSSLCAPath},
	{"socket", requiredArgument, 'U'},
	{"config", requiredArgument, 'F'},
	{"timeout", requiredArgument, 't'},
	{"connect-timeout", requiredArgument, 'n'},
	{"connect-retries", requiredArgument, optConnectRetries},
	{"retry-sleep", requiredArgument, optRetrySleep},
	{"filter-retries", requiredArgument, optFilterRetries},
	{"filter-retry-sleep", requiredArgument, optFilterRetrySleep},
	{"max-size", requiredArgument, 's'},
	{"username", requiredArgument, 'u'},
	{"learntype", requiredArgument, 'L'},
	{"reporttype", requiredArgument, 'C'},
	{"bsmtp", noArgument, 'B'},
	{"check", noArgument, 'c'},
	{"tests", noArgument, 'y'},
	{"full-spam", noArgument, 'r'},
	{"full", noArgument, 'R'},
	{"headers", noArgument, optHeaders},
	{"exitcode", noArgument, 'E'},
	{"no-safe-fallback", noArgument, 'x'},
	{"unavailable-tempfail", noArgument, 'X'},
	{"log-to-stderr", noArgument, 'l'},
	{"pipe-to", requiredArgument, 'e'},
	{"help", noArgument, 'h'},
	{"version", noArgument, 'V'},
	{"compress", noArgument, 'z'},
}

// badOption is what the scanner returns for a usage error, which it has
// already reported.
const badOption = -1

// optionScanner walks argv as spamc_getopt_long does.
type optionScanner struct {
	args   []string // argv, args[0] the program name
	next   int      // index of the next word
	optArg string   // argument of the option just returned
	hasArg bool
	stderr io.Writer
}

// scan returns the next option, badOption after reporting a usage error,
// or ok false at the end of the options.
func (s *optionScanner) scan() (id int, ok bool) {
	s.optArg, s.hasArg = "", false
	if s.next >= len(s.args) {
		return 0, false
	}
	w := s.args[s.next]
	if len(w) < 2 || w[0] != '-' || w == "--" {
		return 0, false
	}
	if w[1] != '-' {
		return s.scanShort(w), true
	}
	return s.scanLong(w), true
}

func (s *optionScanner) scanShort(w string) int {
	idx := s.next
	s.next++
	c := w[1]
	if c == ':' {
		fmt.Fprintf(s.stderr, "Error in argument %d, char 2: : in flags\n", idx)
		return badOption
	}
	i := strings.IndexByte(shortOptions, c)
	if i < 0 || c == '-' {
		fmt.Fprintf(s.stderr, "Error in argument %d, char 2: option not found %c\n", idx, c)
		return badOption
	}
	if i+1 < len(shortOptions) && shortOptions[i+1] == ':' {
		if s.next >= len(s.args) || strings.HasPrefix(s.args[s.next], "-") {
			fmt.Fprintf(s.stderr, "Error in argument %d, char 2: argument required for option %c\n", idx, c)
			return badOption
		}
		s.optArg, s.hasArg = s.args[s.next], true
		s.next++
	}
	return int(c)
}

func (s *optionScanner) scanLong(w string) int {
	s.next++
	name, value, hasValue := strings.Cut(w[2:], "=")
	if strings.HasPrefix(name, ":") {
		fmt.Fprintf(s.stderr, "Error in argument %d : : in flags\n", s.next)
		return badOption
	}
	for _, o := range longOptions {
		if o.name != name {
			continue
		}
		nextIsArg := s.next < len(s.args) && !strings.HasPrefix(s.args[s.next], "-")
		switch o.arg {
		case requiredArgument:
			if !nextIsArg && !hasValue {
				fmt.Fprintf(s.stderr, "Error in argument %d : argument required for option %s\n", s.next-1, w)
				return badOption
			}
			fallthrough
		case optionalArgument:
			switch {
			case hasValue:
				s.optArg, s.hasArg = value, true
			case nextIsArg:
				s.optArg, s.hasArg = s.args[s.next], true
				s.next++
			}
		}
		return o.id
	}
	fmt.Fprintf(s.stderr, "Error in argument %d : option not found %s\n", s.next-1, w)
	return badOption
}

// configFileArgs finds the configuration file as spamc does (the word
// after the first word starting with "-F", else the default path) and
// returns the command line with its words in front. A missing default
// file is no error; a missing -F file is EX_CONFIG.
func configFileArgs(args []string, defaultPath string, stderr io.Writer) ([]string, int) {
	path, explicit := defaultPath, false
	for i, a := range args {
		if strings.HasPrefix(a, "-F") {
			if i+1 < len(args) {
				path, explicit = args[i+1], true
			}
			break
		}
	}
	f, err := os.Open(path)
	if err != nil {
		if explicit {
			fmt.Fprintf(stderr, "Failed to open config file: %s\n", path)
			return nil, exConfig
		}
		return args, exOK
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose
	words, code := readConfigWords(f, path, stderr)
	if code != exOK {
		return nil, code
	}
	combined := append([]string{args[0]}, words...)
	combined = append(combined, args[1:]...)
	if len(combined) > maxCombinedArgs {
		fmt.Fprintf(stderr, "Exceeded max number of arguments (%d) in %s\n", maxCombinedArgs, path)
		return nil, exConfig
	}
	return combined, exOK
}

// Limits of spamc's configuration file.
const (
	maxConfigLine   = 8192
	maxCombinedArgs = 24 // program name, file words and command line together
)

// readConfigWords splits the file into words at spaces, skipping empty
// lines and lines that start with '#'. Every line must end in a newline.
func readConfigWords(r io.Reader, path string, stderr io.Writer) ([]string, int) {
	br := bufio.NewReaderSize(r, maxConfigLine)
	var words []string
	for {
		line, err := br.ReadString('\n')
		if line == "" && errors.Is(err, io.EOF) {
			return words, exOK
		}
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "Failed to read config file %s: %v\n", path, err)
			return nil, exConfig
		}
		if line[0] == '#' || line[0] == '\n' {
			continue
		}
		if !strings.HasSuffix(line, "\n") || len(line) > maxConfigLine-1 {
			if len(line) < maxConfigLine-1 {
				fmt.Fprintf(stderr, "Line not terminated with a newline in %s\n", path)
			} else {
				fmt.Fprintf(stderr, "Exceeded max line size (%d) in %s\n", maxConfigLine-2, path)
			}
			return nil, exConfig
		}
		for _, w := range strings.Split(strings.TrimSuffix(line, "\n"), " ") {
			if w != "" {
				words = append(words, w)
			}
		}
	}
}
