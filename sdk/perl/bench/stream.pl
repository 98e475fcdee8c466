# Streaming PAGI app for the SDK benchmarks: a 1 MiB response as 64 body
# events of 16 KiB (as bench/apps/stream.pl at the top level).
use strict;
use warnings;
use Future::AsyncAwait;
my $chunk = 'x' x 16384;
my $chunks = 64;
my @headers = ([ 'content-type', 'application/octet-stream' ], [ 'content-length', length($chunk) * $chunks ]);
return async sub {
    my ($scope, $receive, $send) = @_;
    return if $scope->{type} eq 'lifespan';
    await $send->({ type => 'http.response.start', status => 200, headers => \@headers });
    for my $i (1 .. $chunks) {
        await $send->({ type => 'http.response.body', body => $chunk, more => ($i < $chunks ? 1 : 0) });
    }
};
