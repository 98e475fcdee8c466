#!/usr/bin/perl
# Writes one line, then waits for a line on stdin before the next: the test
# sees the first line before it sends that line.
use strict;
use warnings;
$| = 1;
print "Content-Type: text/plain\n\n";
print "first\n";
my $line = <STDIN> // '';
print "second:$line";
