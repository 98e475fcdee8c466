# Benchmark app (PAGI): reads the whole request body (the benchmark posts
# 64 KiB) and sends it back in one response body event.
# Equivalent PSGI app: echo.psgi.
use strict;
use warnings;
use Future::AsyncAwait;

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

    my $body = '';
    while (1) {
        my $event = await $receive->();
        last unless $event->{type} eq 'http.request';    # http.disconnect
        $body .= $event->{body} if defined $event->{body};
        last unless $event->{more};
    }
    await $send->({
        type    => 'http.response.start',
        status  => 200,
        headers => [
            [ 'content-type',   'application/octet-stream' ],
            [ 'content-length', length $body ],
        ],
    });
    await $send->({ type => 'http.response.body', body => $body });
};

$app;
