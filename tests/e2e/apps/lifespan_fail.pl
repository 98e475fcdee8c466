# Refuses to start: lifespan startup fails with a message the gateway must
# print before exiting non-zero.
use strict;
use warnings;
use Future::AsyncAwait;

my $app = async sub {
    my ($scope, $receive, $send) = @_;
    if ($scope->{type} eq 'lifespan') {
        my $event = await $receive->();
        if ($event->{type} eq 'lifespan.startup') {
            await $send->({
                type    => 'lifespan.startup.failed',
                message => 'e2e: database unreachable at startup',
            });
        }
        return;
    }
    die "not reached: startup failed\n";
};

$app;
