// Package eval implements the functions SpamAssassin rules call with
// "eval:name(args)": HTML statistics (HTMLEval), MIME structure (MIMEEval),
// header and date checks (HeaderEval), body statistics (BodyEval), relay
// checks (RelayEval), the welcome/block lists (WLBLEval), free-mail
// providers (FreeMail), URI checks (URIEval, HTTPSMismatch) and image
// sizes (ImageInfo).
//
// Each function takes the rule's arguments as written (quotes removed) and
// answers hit or miss for one message, with SpamAssassin 4.0.1's argument
// conventions: numbers are read like Perl numbers, "undef" leaves a bound
// open, "inf" is infinity. The facts follow SpamAssassin's plugins; the
// code is ours.
//
// What is not here: check_bayes (the engine owns the classifier), DNS
// checks (check_rbl*, check_uridnsbl, askdns), DKIM/SPF/DMARC, and the
// external services (Razor, Pyzor, DCC). Functions that need TextCat or a
// language guesser answer false.
//
// A Registry is immutable and shared by every scan; a Context belongs to
// one scan and caches what several functions compute (HTML statistics,
// the raw MIME walk, parsed dates).
package eval
