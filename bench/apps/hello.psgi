# Benchmark app (PSGI twin of hello.pl): "hello", 5 bytes.
use strict;
use warnings;

my @headers = ('Content-Type' => 'text/plain', 'Content-Length' => 5);
sub { [ 200, [@headers], ['hello'] ] };
