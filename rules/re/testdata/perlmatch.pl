#!/usr/bin/perl
# perlmatch.pl — Perl's own answer for rule patterns, for gospamd's
# differential tests of package re.
#
# Patterns are compiled the way SpamAssassin 4.0's compile_regexp does:
# the trailing modifiers become an inline "(?mods)" prefix, the result is
# compiled with qr//aa, and any warning other than a deprecation makes
# the pattern fail. Subjects are byte strings.
#
# Reads JSON lines on stdin, writes one line per request on stdout.
# Bytes travel base64-encoded (patterns and subjects need not be UTF-8):
#   {"texts":[B64,...]}                 set the probe texts  -> "ok N"
#   {"pattern":B64,"flags":"i"}         match every probe    -> "0110..." (one digit per text)
#   {"pattern":B64,"flags":"i","text":B64}  match one text   -> "1" or "0"
#   {"pattern":B64,"flags":"i","text":B64,"all":1}
#                                        m//g offsets        -> "s-e s-e ..." (maybe empty)
# A pattern Perl refuses gives "E <reason>"; a match running over the
# time limit gives "T" in place of its digit (or the whole line).
use strict;
use warnings;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use POSIX ();

$| = 1;
my $timeout = $ENV{PERLMATCH_TIMEOUT} || 5;
my $json = JSON::PP->new;
my @texts;
my %cache;

# An unsafe ALRM handler interrupts a runaway match inside the regex
# engine (safe signals would wait for it to finish).
{
  my $act = POSIX::SigAction->new(sub { die "perlmatch-timeout\n" }, POSIX::SigSet->new(), 0);
  $act->safe(0);
  POSIX::sigaction(POSIX::SIGALRM(), $act) or die "sigaction: $!";
}

sub compile_sa {
  my ($re, $mods) = @_;
  $re = "(?$mods)$re" if $mods ne '';
  my $qr;
  my $ok = eval {
    local $SIG{__WARN__} = sub { die "$_[0]\n" if $_[0] !~ /deprecated/i; };
    $qr = qr/$re/aa;
    1;
  };
  if (!$ok) {
    my $err = $@;
    $err =~ s/ at \S+ line \d+.*//s;
    $err =~ s/\s+/ /g;
    return (undef, $err);
  }
  return ($qr, undef);
}

sub timed {
  my ($code) = @_;
  my $r;
  my $ok = eval { alarm($timeout); $r = $code->(); alarm(0); 1 };
  alarm(0);
  return $ok ? $r : 'T';
}

while (my $line = <STDIN>) {
  chomp $line;
  next if $line eq '';
  my $req = $json->decode($line);
  if (exists $req->{texts}) {
    @texts = map { decode_base64($_) } @{ $req->{texts} };
    print "ok ", scalar(@texts), "\n";
    next;
  }
  my $pat = decode_base64($req->{pattern});
  my $mods = defined $req->{flags} ? $req->{flags} : '';
  my $key = "$mods\0$pat";
  my $c = $cache{$key} ||= [compile_sa($pat, $mods)];
  my ($qr, $err) = @$c;
  if (!$qr) {
    print "E $err\n";
    next;
  }
  if (exists $req->{text}) {
    my $t = decode_base64($req->{text});
    if ($req->{all}) {
      my $r = timed(sub {
        my @m;
        while ($t =~ /$qr/g) { push @m, "$-[0]-$+[0]"; }
        return join(' ', @m);
      });
      print "$r\n";
    } else {
      print timed(sub { $t =~ $qr ? 1 : 0 }), "\n";
    }
    next;
  }
  my $out = '';
  for my $t (@texts) {
    $out .= timed(sub { $t =~ $qr ? 1 : 0 });
  }
  print "$out\n";
}
