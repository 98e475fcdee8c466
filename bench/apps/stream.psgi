# Benchmark app (PSGI twin of stream.pl): a 1 MiB response written as 64
# chunks of 16 KiB through psgi.streaming, with Content-Length set.
use strict;
use warnings;

my $chunk  = 'x' x 16384;
my $chunks = 64;

sub {
    my ($env) = @_;
    sub {
        my ($respond) = @_;
        my $writer = $respond->([ 200, [
            'Content-Type'   => 'application/octet-stream',
            'Content-Length' => length($chunk) * $chunks,
        ] ]);
        $writer->write($chunk) for 1 .. $chunks;
        $writer->close;
    };
};
