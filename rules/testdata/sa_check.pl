#!/usr/bin/perl
# sa_check.pl TRAIN_SPAM_LIST TRAIN_HAM_LIST FILE... — trains a fresh
# Bayes database in a temporary directory on the messages listed (one path
# per line) in the two list files, then checks each FILE with local tests
# only and Bayes on (no auto-learn, no auto-expire: gospamd expires only
# when asked), and prints one JSON object per line:
#   {"file", "tests", "subtests", "score", "required", "headers", "report",
#    "report_tag", "subversion"}
# where headers are the X-Spam-* fields of the marked-up message, as
# written, and report_tag is _REPORT_ (X-Spam-Report under report_safe 0). Used by the rules package's differential test; its answers are
# cached outside the repository.
use strict;
use warnings;
use File::Temp qw(tempdir);
use JSON::PP;
use Mail::SpamAssassin;

my ($spam_list, $ham_list, @files) = @ARGV;
my $dir = tempdir(CLEANUP => 1);
my $sa = Mail::SpamAssassin->new({
  local_tests_only   => 1,
  dont_copy_prefs    => 1,
  userprefs_filename => '/dev/null',
  post_config_text   => join("\n",
    "use_bayes 1", "bayes_auto_learn 0", "bayes_auto_expire 0",
    "use_auto_whitelist 0",
    "bayes_path $dir/bayes", "bayes_file_mode 0700",
    "report_hostname gospamd.test", "bayes_learn_to_journal 0", ""),
});
$sa->init(1);

sub read_lines {
  my ($path) = @_;
  open(my $fh, '<', $path) or die "open $path: $!";
  my @lines = <$fh>;
  close $fh;
  return \@lines;
}

for my $spec ([$spam_list, 1], [$ham_list, 0]) {
  my ($list, $isspam) = @$spec;
  for my $path (@{ read_lines($list) }) {
    chomp $path;
    next if $path eq '';
    my $msg = $sa->parse(read_lines($path));
    my $status = $sa->learn($msg, undef, $isspam, 0);
    $status->finish();
    $msg->finish();
  }
}
$sa->finish_learner();
$sa->rebuild_learner_caches();

# ascii: every octet above 0x7F is written \u00XX, so the reader gets
# SpamAssassin's bytes back exactly.
my $json = JSON::PP->new->canonical->ascii(1);
binmode STDOUT;
for my $file (@files) {
  my $msg = $sa->parse(read_lines($file));
  my $status = $sa->check($msg);
  my $marked = $status->rewrite_mail();
  my ($head) = split /\r?\n\r?\n/, $marked, 2;
  my @fields;
  for my $f (split /\n(?![ \t])/, $head) {
    push @fields, $f if $f =~ /^X-Spam-/;
  }
  print $json->encode({
    file     => $file,
    tests    => $status->get_names_of_tests_hit(),
    subtests => $status->get_names_of_subtests_hit(),
    score    => sprintf("%.4f", $status->get_score()),
    required => $status->get_required_score() + 0,
    headers  => \@fields,
    report   => $status->get_report(),
    report_tag => $status->get_tag('REPORT'),
    subversion => $Mail::SpamAssassin::SUB_VERSION,
  }), "\n";
  $status->finish();
  $msg->finish();
}
