# The operations tests' app (tests/e2e/test_ops_*.py):
#   /id          JSON: the scope's pagi.gateway request_id and the headers
#                x-request-id and traceparent as the app received them
#   /gate/NAME   answers once the test created $ENV{OPS_DIR}/NAME (an
#                in-flight request the test controls)
#   /status/NNN  answers with that status
#   /pid         the worker's pid
#   anything else: 200 "ok\n"
use strict;
use warnings;
use Future::AsyncAwait;
use Future::IO;
use JSON::PP ();

my $JSON = JSON::PP->new->canonical->ascii;
my $DIR  = $ENV{OPS_DIR} // '/nonexistent';
my $GATE_LIMIT = 60;    # seconds a gate may stay shut before the app gives up

async sub respond {
    my ($send, $status, $body, $type) = @_;
    await $send->({
        type    => 'http.response.start',
        status  => $status,
        headers => [ [ 'content-type', $type // 'text/plain' ], [ 'content-length', length $body ] ],
    });
    await $send->({ type => 'http.response.body', body => $body });
}

sub header {
    my ($scope, $name) = @_;
    for my $h (@{ $scope->{headers} }) {
        return $h->[1] if lc $h->[0] eq $name;
    }
    return undef;
}

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
    my $path = $scope->{path};
    if ($path eq '/id') {
        my %out = (
            request_id   => ($scope->{'pagi.gateway'} // {})->{request_id},
            x_request_id => header($scope, 'x-request-id'),
            traceparent  => header($scope, 'traceparent'),
        );
        return await respond($send, 200, $JSON->encode(\%out), 'application/json');
    }
    if ($path =~ m{^/gate/(\w+)$}) {
        my $gate = "$DIR/$1";
        my $deadline = time + $GATE_LIMIT;
        until (-e $gate) {
            die "gate $gate never opened\n" if time > $deadline;
            await Future::IO->sleep(0.01);
        }
        return await respond($send, 200, "opened\n");
    }
    if ($path =~ m{^/status/(\d{3})$}) {
        return await respond($send, $1, "status $1\n");
    }
    if ($path eq '/pid') {
        return await respond($send, 200, "$$\n");
    }
    await respond($send, 200, "ok\n");
};

$app;
