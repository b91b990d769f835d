package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// tellRemoteScript reports and revokes a message with SpamAssassin's own
// Mail::SpamAssassin::Client: report() asks for local and remote
// learning, revoke() for a local ham learn and a remote revoke. Against
// spamd without reporting plugins both succeed on the local part.
const tellRemoteScript = `
use strict;
use warnings;
use Mail::SpamAssassin::Client;
my ($port, $file) = @ARGV;
open(my $fh, '<', $file) or die "open $file: $!";
my $msg = do { local $/; <$fh> };
my $c = Mail::SpamAssassin::Client->new({host => '127.0.0.1', port => $port, timeout => 20});
# report() and revoke() return true only when the remote part was done;
# the answer's code says whether spamd took the request.
my $ok = $c->report($msg);
print "report=", ($ok ? 1 : 0), " code=$c->{resp_code}\n";
$ok = $c->revoke($msg);
print "revoke=", ($ok ? 1 : 0), " code=$c->{resp_code}\n";
`

// TELL with remote parts, as Mail::SpamAssassin::Client's report() and
// revoke() and spamc -C send it: the local part is learned and the answer
// is EX_OK with DidSet/DidRemove naming only local, as spamd answers
// without reporting plugins.
func TestTellRemoteDoesTheLocalPart(t *testing.T) {
	perl := testpeer.Program(t, "perl")
	if err := exec.Command(perl, "-MMail::SpamAssassin::Client", "-e1").Run(); err != nil {
		testpeer.Missing(t, "Mail::SpamAssassin::Client (Debian package spamassassin): %v", err)
	}
	spamc := testpeer.Program(t, "spamc")
	tmp := t.TempDir()
	db := filepath.Join(tmp, "bayes")
	d := startDaemon(t, false, "--dbpath", db, "--allow-tell")
	msgFile := filepath.Join(tmp, "msg")
	writeFile(t, msgFile, "From: a@example.com\r\nTo: b@example.org\r\nSubject: offer\r\nMessage-ID: <tell-remote@example.com>\r\n\r\nBuy now.\r\n")
	out, err := exec.Command(perl, "-e", tellRemoteScript, fmt.Sprint(d.port), msgFile).CombinedOutput()
	if want := "report=0 code=0\nrevoke=0 code=0\n"; err != nil || string(out) != want {
		t.Errorf("perl client: %v\n%s\nwant EX_OK (code 0) for both, with nothing reported remotely:\n%s", err, out, want)
	}
	// spamc -C report: the local learn happens, spamc says it could not
	// report remotely and exits 0, as with spamd.
	other := strings.Replace(mustRead(t, msgFile), "tell-remote@", "tell-remote-2@", 1)
	cmd := exec.Command(spamc, "-d", "127.0.0.1", "-p", fmt.Sprint(d.port), "-C", "report")
	cmd.Stdin = strings.NewReader(other)
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("spamc -C report: %v\n%s", err, got)
	}
	if !strings.Contains(string(got), "Message successfully reported/revoked") && !strings.Contains(string(got), "Unable to report/revoke") {
		t.Errorf("spamc -C report printed %q", got)
	}
	d.stop()
	magic, _, _ := runCLI(t, "", "learn", "--dbpath", db, "--dump", "magic")
	if !strings.Contains(magic, " 1          0  non-token data: nspam") || !strings.Contains(magic, " 1          0  non-token data: nham") {
		t.Errorf("after report, revoke and spamc -C report: want nspam 1 (the spamc report) and nham 1 (the revoked message):\n%s", magic)
	}
}
