#!/usr/bin/perl
# Reference peer for the SpamAssassin compatibility tests (our own script):
# scans each message file named on standard input with SpamAssassin's Bayes
# plugin only, against the database at $ARGV[1]/bayes, and prints
# "path<TAB>BAYES rules hit<TAB>probability" per message.
use strict;
use warnings;
use Mail::SpamAssassin;

my ($rulesdir, $dbdir) = @ARGV;
my $sa = Mail::SpamAssassin->new({
  rules_filename      => $rulesdir,
  site_rules_filename => $rulesdir,
  userprefs_filename  => "$rulesdir/user_prefs",
  local_tests_only    => 1,
  dont_copy_prefs     => 1,
  post_config_text    => "use_bayes 1\nbayes_path $dbdir/bayes\nbayes_auto_learn 0\nbayes_auto_expire 0\nbayes_learn_to_journal 0\n",
});
$sa->init(1);
while (my $path = <STDIN>) {
  chomp $path;
  open(my $fh, '<', $path) or die "open $path: $!";
  local $/;
  my $raw = <$fh>;
  close $fh;
  my $msg = $sa->parse($raw);
  my $status = $sa->check($msg);
  my @bayes = grep { /^BAYES_/ } split /,/, $status->get_names_of_tests_hit();
  my $p = defined $status->{bayes_score} ? sprintf("%.6f", $status->{bayes_score}) : '-';
  print join("\t", $path, join(',', sort @bayes), $p), "\n";
  $status->finish();
  $msg->finish();
}
