#!/usr/bin/perl
# sa_hits.pl FILE... — for each message file, print one line:
#   FILE<TAB>RULE RULE ...
# listing every rule and sub-rule SpamAssassin hit with local tests only
# (no network, no Bayes, no auto-welcomelist). Used by the
# differential tests (testpeer.SpamAssassinHits); its answers are cached
# outside the repository.
use strict;
use warnings;
use Mail::SpamAssassin;

my $sa = Mail::SpamAssassin->new({
  local_tests_only => 1,
  dont_copy_prefs  => 1,
  userprefs_filename => '/dev/null',
  post_config_text => "use_bayes 0\nuse_auto_whitelist 0\nbayes_auto_learn 0\n",
});
$sa->init(1);
for my $file (@ARGV) {
  open(my $fh, '<', $file) or die "open $file: $!";
  my @lines = <$fh>;
  close $fh;
  my $msg = $sa->parse(\@lines);
  my $status = $sa->check($msg);
  my @hit = split /,/, $status->get_names_of_tests_hit();
  my %all = map { $_ => 1 } @hit;
  $all{$_} = 1 for split /,/, $status->get_names_of_subtests_hit();
  print $file, "\t", join(' ', sort keys %all), "\n";
  $status->finish();
  $msg->finish();
}
