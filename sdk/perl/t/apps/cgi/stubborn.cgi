#!/usr/bin/perl
# Ignores SIGTERM (says so on stderr) and never answers: only SIGKILL ends it.
BEGIN { $SIG{TERM} = sub { print STDERR "STUBBORN GOT TERM\n" } }
print STDERR "STUBBORN PID $$\n";
open my $st, "<", "/proc/self/status";
print STDERR grep { /^Sig(?:Blk|Ign)/ } <$st>;    # the signal state it was started with
sleep 1 while 1;
