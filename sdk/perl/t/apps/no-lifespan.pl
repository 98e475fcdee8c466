# Raises on the lifespan scope: the worker reports lifespanUnsupported.
use strict;
use warnings;
use Future::AsyncAwait;
return async sub {
    my ($scope, $receive, $send) = @_;
    die "no lifespan here\n" if $scope->{type} eq 'lifespan';
    await $send->({ type => 'http.response.start', status => 204, headers => [] });
    await $send->({ type => 'http.response.body', body => '' });
};
