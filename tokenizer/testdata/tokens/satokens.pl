#!/usr/bin/perl
# Print the Bayes tokens SpamAssassin's own tokenizer makes, for the
# differential tests in sadiff_test.go.
#
#   satokens.pl SITECONFIGDIR FILE...
#       For each message FILE: "== FILE", then one "<hex key> <token>"
#       line per distinct token, sorted by key.
#   satokens.pl --headers SITECONFIGDIR FILE...
#       For each message FILE: "== FILE", then one "<prefix>\x01<text>"
#       line per header token source of _tokenize_headers, sorted.
#   satokens.pl --lines SITECONFIGDIR < records
#       stdin holds NUL-terminated records "region\x01prefix\x01text";
#       for each, one line: the tokens of _tokenize_line joined by \x01.
use strict;
use warnings;
use Mail::SpamAssassin;

my $mode = @ARGV && $ARGV[0] =~ /^--/ ? shift @ARGV : '';
my $lines = $mode eq '--lines';
my ($siteconf, @files) = @ARGV;
my $sa = Mail::SpamAssassin->new({
  site_rules_filename => $siteconf,
  userprefs_filename  => '/dev/null',
  dont_copy_prefs     => 1,
  local_tests_only    => 1,
});
$sa->init(1);
my ($bayes) = grep { ref($_) eq 'Mail::SpamAssassin::Plugin::Bayes' }
  @{ $sa->{plugins}->{plugins} };
die "Bayes plugin not loaded\n" unless $bayes;
binmode STDOUT;

if ($lines) {
  binmode STDIN;
  local $/ = "\0";
  # _tokenize_line needs a store for its magic-token check.
  my $dummy = $sa->parse(["Subject: x\n", "\n", "x\n"]);
  $bayes->get_body_from_msg($dummy);
  while (my $rec = <STDIN>) {
    chomp $rec;
    my ($region, $prefix, $text) = split(/\x01/, $rec, 3);
    $bayes->{stopword_cache} = {};
    my @toks = $bayes->_tokenize_line($text, $prefix, $region);
    print join("\x01", @toks), "\n";
  }
  exit 0;
}

for my $file (@files) {
  open(my $fh, '<', $file) or die "open $file: $!\n";
  binmode $fh;
  my @msg = <$fh>;
  close $fh;
  my $msg = $sa->parse(\@msg);
  my $data = $bayes->get_body_from_msg($msg);
  print "== $file\n";
  if ($mode eq '--headers') {
    my %hdrs = $bayes->_tokenize_headers($msg);
    print "$_\x01$hdrs{$_}\n" for sort keys %hdrs;
    $msg->finish();
    next;
  }
  my $toks = $bayes->tokenize($msg, $data);
  for my $k (sort keys %$toks) {
    print unpack('H*', $k), ' ', $toks->{$k}, "\n";
  }
  $msg->finish();
}
