# Echo PAGI app for the SDK benchmarks: reads the whole request body and
# sends it back in one body event (as bench/apps/echo.pl at the top level).
use strict;
use warnings;
use Future::AsyncAwait;
return async sub {
    my ($scope, $receive, $send) = @_;
    return if $scope->{type} eq 'lifespan';
    my $body = '';
    while (1) {
        my $event = await $receive->();
        last unless $event->{type} eq 'http.request';
        $body .= $event->{body} if defined $event->{body};
        last unless $event->{more};
    }
    await $send->({ type => 'http.response.start', status => 200,
                    headers => [ [ 'content-type', 'application/octet-stream' ], [ 'content-length', length $body ] ] });
    await $send->({ type => 'http.response.body', body => $body });
};
