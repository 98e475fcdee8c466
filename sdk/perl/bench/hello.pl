# Hello-world PAGI app for the benchmarks.
use strict;
use warnings;
use Future::AsyncAwait;
return async sub {
    my ($scope, $receive, $send) = @_;
    return if $scope->{type} eq 'lifespan';
    await $send->({ type => 'http.response.start', status => 200,
                    headers => [ [ 'content-type', 'text/plain' ], [ 'content-length', 13 ] ] });
    await $send->({ type => 'http.response.body', body => 'Hello, world!' });
};
