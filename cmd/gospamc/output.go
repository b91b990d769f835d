package main

import (
	"errors"
	"io"
	"os/exec"
)

// output is where the mail (or the check line) goes: standard output, or
// with -e the standard input of a command that gospamc starts the first
// time there is something to write, as spamc does. The command replaces
// gospamc's own exit status with its own, since with spamc it is the
// process the caller waits for.
type output struct {
	stdout, stderr io.Writer
	argv           []string // -e command, nil for standard output

	cmd      *exec.Cmd
	pipe     io.WriteCloser
	startErr error
}

// writer returns the destination, starting the -e command if needed.
func (o *output) writer() io.Writer {
	if o.argv == nil {
		return o.stdout
	}
	if o.cmd == nil {
		// Like execv, no search of PATH: argv[0] is a path.
		o.cmd = &exec.Cmd{Path: o.argv[0], Args: o.argv, Stdout: o.stdout, Stderr: o.stderr}
		o.pipe, o.startErr = o.cmd.StdinPipe()
		if o.startErr == nil {
			o.startErr = o.cmd.Start()
		}
	}
	if o.startErr != nil {
		return io.Discard
	}
	return o.pipe
}

// finish ends the -e command, if one was started, and returns the exit
// status of the whole run.
func (o *output) finish(code int) int {
	if o.cmd == nil {
		return code
	}
	if o.startErr != nil {
		return exOSErr
	}
	_ = o.pipe.Close() // the command sees EOF; a command that quit early is no error of ours
	err := o.cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return exOK
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		return exitErr.ExitCode()
	}
	return exOSErr
}
