# Benchmark app (PAGI): a 1 MiB response sent as 64 body events of 16 KiB
# each (more => 1 on all but the last). Content-Length is set so that the
# framing is the same as the PSGI twin (stream.psgi), which writes the same
# 64 chunks through psgi.streaming.
use strict;
use warnings;
use Future::AsyncAwait;

my $chunk  = 'x' x 16384;
my $chunks = 64;
my @headers = (
    [ 'content-type',   'application/octet-stream' ],
    [ 'content-length', length($chunk) * $chunks ],
);

my $app = async sub {
    my ($scope, $receive, $send) = @_;
    if ($scope->{type} eq 'lifespan') {
        while (1) {
            my $event = await $receive->();
            if ($event->{type} eq 'lifespan.startup') {
                await $send->({ type => 'lifespan.startup.complete' });
            }
            elsif ($event->{type} eq 'lifespan.shutdown') {
                await $send->({ type => 'lifespan.shutdown.complete' });
                return;
            }
        }
    }
    die "unsupported scope type $scope->{type}\n" unless $scope->{type} eq 'http';
    await $send->({ type => 'http.response.start', status => 200, headers => \@headers });
    for my $i (1 .. $chunks) {
        await $send->({ type => 'http.response.body', body => $chunk, more => ($i < $chunks ? 1 : 0) });
    }
};

$app;
