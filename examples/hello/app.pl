# A plain PAGI application: runs unchanged under pagi-gateway and under the
# Perl reference server (`pagi-server examples/hello/app.pl`).
use strict;
use warnings;
use Future::AsyncAwait;

my $app = async sub {
    my ($scope, $receive, $send) = @_;

    if ($scope->{type} eq 'lifespan') {
        while (1) {
            my $event = await $receive->();
            if ($event->{type} eq 'lifespan.startup') {
                $scope->{state}{started_at} = time;
                await $send->({ type => 'lifespan.startup.complete' });
            }
            elsif ($event->{type} eq 'lifespan.shutdown') {
                await $send->({ type => 'lifespan.shutdown.complete' });
                return;
            }
        }
    }
    die "unsupported scope type $scope->{type}\n" unless $scope->{type} eq 'http';

    my $body = "Hello from PAGI via pagi-gateway! You asked for $scope->{path}\n";
    await $send->({
        type    => 'http.response.start',
        status  => 200,
        headers => [
            [ 'content-type',   'text/plain; charset=utf-8' ],
            [ 'content-length', length $body ],
        ],
    });
    await $send->({ type => 'http.response.body', body => $body });
};

$app;
