# The app of tests/unit/gateway/embed_test.cpp: "/" answers at once; "/drain"
# sends a first chunk, then waits for the whole request body and echoes it,
# so the test can call Gateway::stop() while the exchange is in flight.
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

    if ($scope->{path} eq '/drain') {
        await $send->({ type => 'http.response.start', status => 200, headers => [ [ 'content-type', 'text/plain' ] ] });
        await $send->({ type => 'http.response.body', body => "started\n", more => 1 });
        my $body = '';
        while (1) {
            my $event = await $receive->();
            last unless $event->{type} eq 'http.request';
            $body .= $event->{body} // '';
            last unless $event->{more};
        }
        await $send->({ type => 'http.response.body', body => "got $body\n", more => 0 });
        return;
    }
    my $body = "embedded $scope->{path}\n";
    await $send->({
        type    => 'http.response.start',
        status  => 200,
        headers => [ [ 'content-type', 'text/plain' ], [ 'content-length', length $body ] ],
    });
    await $send->({ type => 'http.response.body', body => $body });
};

$app;
