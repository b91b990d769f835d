package spamdproto

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// perlClientScript drives SpamAssassin's own Mail::SpamAssassin::Client,
// which (unlike spamc) sends an extra CRLF after the message and never
// half-closes: a server that waited for EOF would hang it.
const perlClientScript = `
use strict;
use warnings;
use Mail::SpamAssassin::Client;
my ($port, $file) = @ARGV;
open(my $fh, '<', $file) or die "open $file: $!";
my $msg = do { local $/; <$fh> };
my $c = Mail::SpamAssassin::Client->new({host => '127.0.0.1', port => $port, username => 'erin', timeout => 10});
print "ping=", ($c->ping() ? 1 : 0), "\n";
my $r = $c->check($msg);
print "check=$r->{isspam} $r->{score} $r->{threshold}\n";
$r = $c->process($msg);
print "process=$r->{isspam} cl=$r->{content_length} len=", length($r->{message}), "\n";
$r = $c->headers($msg);
print "headers cl=$r->{content_length} len=", length($r->{message}), "\n";
$r = $c->spam_report($msg);
print "report=[$r->{report}]\n";
$r = $c->spam_report_ifspam($msg);
print "report_ifspam=$r->{isspam}\n";
print "learn=", ($c->learn($msg, 0) ? 1 : 0), "\n";
print "learn_again=", ($c->learn($msg, 0) ? 1 : 0), "\n";
print "forget=", ($c->learn($msg, 2) ? 1 : 0), "\n";
`

func TestPerlClient(t *testing.T) {
	perl, err := exec.LookPath("perl")
	requirePeer(t, "perl", err)
	if err := exec.Command(perl, "-MMail::SpamAssassin::Client", "-e", "1").Run(); err != nil {
		requirePeer(t, "Mail::SpamAssassin::Client (package spamassassin)", err)
	}
	teller := newFakeTeller()
	scanner := gtubeScanner()
	ts := startServer(t, Config{}, scanner, teller)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	msgPath, err := filepath.Abs(filepath.Join("testdata", "messages", "gtube.eml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, perl, "-e", perlClientScript, ts.port(), msgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("perl client: %v\n%s", err, out)
	}
	want := strings.Join([]string{
		"ping=1",
		"check=True 1000 5",
		"process=True cl=220 len=220",
		"headers cl=151 len=151",
		"report=[Spam detection report\n\n]",
		"report_ifspam=Yes",
		"learn=1",
		"learn_again=0",
		"forget=1",
	}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("perl client printed\n%s\nwant\n%s", out, want)
	}
	for _, l := range scanner.log() {
		if !strings.Contains(l, `user="erin" bytes=203`) {
			t.Errorf("scanner saw %s, want user erin and the 203 bytes without the extra CRLF", l)
		}
	}
}
