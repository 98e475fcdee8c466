# A Perl PAGI app for the container example: GET / says hello, GET /id shows
# the request id the gateway gave the request.
use strict;
use warnings;
use Future::AsyncAwait;

return async sub {
    my ($scope, $receive, $send) = @_;
    if ($scope->{type} eq 'lifespan') {
        while (1) {
            my $event = await $receive->();
            return await $send->({ type => 'lifespan.shutdown.complete' }) if $event->{type} eq 'lifespan.shutdown';
            await $send->({ type => 'lifespan.startup.complete' });
        }
    }
    my $id   = ($scope->{'pagi.gateway'} // {})->{request_id} // '-';
    my $body = $scope->{path} eq '/id' ? "request id $id\n" : "Hello from Perl behind pagi-gateway\n";
    await $send->({ type => 'http.response.start', status => 200,
                    headers => [ [ 'content-type', 'text/plain' ] ] });
    await $send->({ type => 'http.response.body', body => $body });
};
