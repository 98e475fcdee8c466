# Declines the lifespan protocol by raising, as the spec allows: the gateway
# must treat lifespan as unsupported and serve requests anyway.
use strict;
use warnings;
use Future::AsyncAwait;

my $app = async sub {
    my ($scope, $receive, $send) = @_;
    die "no lifespan here\n" unless $scope->{type} eq 'http';
    my $body = 'no lifespan, still serving';
    await $send->({
        type    => 'http.response.start',
        status  => 200,
        headers => [ [ 'content-type', 'text/plain' ], [ 'content-length', length $body ] ],
    });
    await $send->({ type => 'http.response.body', body => $body });
};

$app;
