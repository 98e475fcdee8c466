# Benchmark app (PSGI twin of echo.pl): reads the whole request body and
# sends it back.
use strict;
use warnings;

sub {
    my ($env) = @_;
    my $input = $env->{'psgi.input'};
    my $want  = $env->{CONTENT_LENGTH} || 0;
    my $body  = '';
    while (length($body) < $want) {
        my $n = $input->read($body, $want - length($body), length $body);
        last unless $n;
    }
    [ 200, [ 'Content-Type' => 'application/octet-stream', 'Content-Length' => length $body ], [$body] ];
};
