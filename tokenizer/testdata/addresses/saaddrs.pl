#!/usr/bin/perl
# Reads address header values, one hex-encoded value a line, and prints
# what SpamAssassin's parse_header_addresses makes of each: a line "= N"
# (the number of addresses), then for each address a line with the
# phrase and the address, hex-encoded, "-" for undef, tab-separated.
# With --xs it first reports whether Email::Address::XS is in use.
use strict;
use warnings;
use Mail::SpamAssassin::Util;

if (@ARGV && $ARGV[0] eq '--xs') {
  print $Mail::SpamAssassin::Util::email_address_xs ? "xs yes\n" : "xs no\n";
  exit 0;
}
sub hexed { defined $_[0] ? unpack('H*', $_[0]) : '-' }
binmode STDIN;
binmode STDOUT;
while (my $line = <STDIN>) {
  chomp $line;
  my $val = pack('H*', $line);
  my @addrs = Mail::SpamAssassin::Util::parse_header_addresses($val);
  print '= ', scalar(@addrs), "\n";
  for my $a (@addrs) {
    print hexed($a->{phrase}), "\t", hexed($a->{address}), "\n";
  }
}
