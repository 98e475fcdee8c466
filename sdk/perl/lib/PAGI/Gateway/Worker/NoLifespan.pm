package PAGI::Gateway::Worker::NoLifespan;
# The lifespan scope of an app that has none (PSGI, CGI): startup and
# shutdown succeed at once.
use strict;
use warnings;
use Future::AsyncAwait;

async sub run {
    my ($receive, $send) = @_;
    while (1) {
        my $ev = await $receive->();
        my $type = $ev->{type} // '';
        if ($type eq 'lifespan.startup') { await $send->({ type => 'lifespan.startup.complete' }) }
        elsif ($type eq 'lifespan.shutdown') { await $send->({ type => 'lifespan.shutdown.complete' }); return }
        else { return }
    }
}

1;
