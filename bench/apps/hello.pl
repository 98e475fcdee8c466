# Benchmark app (PAGI): the smallest useful response, "hello" (5 bytes).
# Equivalent PSGI app: hello.psgi.
use strict;
use warnings;
use Future::AsyncAwait;

my @headers = ([ 'content-type', 'text/plain' ], [ 'content-length', 5 ]);

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
    await $send->({ type => 'http.response.body', body => 'hello' });
};

$app;
