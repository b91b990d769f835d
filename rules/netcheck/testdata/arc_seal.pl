#!/usr/bin/perl
# arc_seal.pl KEYFILE DOMAIN SELECTOR SRVID CHAIN < message > sealed
#
# Adds one ARC set to the message on stdin with Mail::DKIM::ARC::Signer
# (Debian's libmail-dkim-perl, the library SpamAssassin verifies ARC
# with): an independent signer for the ARC verifier's tests. The message
# must carry an Authentication-Results header by SRVID. Prints the new
# ARC headers followed by the message.
use strict;
use warnings;
use Mail::DKIM::ARC::Signer;
use Mail::DKIM::TextWrap;

my ($keyfile, $domain, $selector, $srvid, $chain) = @ARGV;
my $signer = Mail::DKIM::ARC::Signer->new(
  Algorithm => 'rsa-sha256',
  Chain     => $chain,
  Domain    => $domain,
  SrvId     => $srvid,
  Selector  => $selector,
  KeyFile   => $keyfile,
);
my $msg = do { local $/; <STDIN> };
$msg =~ s/\r?\n/\r\n/g;
$signer->PRINT($msg);
$signer->CLOSE;
die "not sealed: " . ($signer->result_detail // '') . "\n" unless $signer->result eq 'sealed';
my $headers = $signer->as_string;
$headers =~ s/\r?\n/\r\n/g;
$headers .= "\r\n" unless $headers =~ /\r\n\z/;
print $headers, $msg;
