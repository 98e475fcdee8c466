# The supervision test app: first path segment picks a behaviour; every
# answer names the worker pid, so tests see which worker served it.
use strict;
use warnings;
use Future::AsyncAwait;
use Future::IO;
use JSON::PP ();

my $JSON = JSON::PP->new->canonical->ascii;
my @LEAK;    # grows on /leak and is never freed

async sub respond {
    my ($send, $status, $body) = @_;
    await $send->({
        type    => 'http.response.start',
        status  => $status,
        headers => [ [ 'content-type', 'text/plain' ], [ 'content-length', length $body ] ],
    });
    await $send->({ type => 'http.response.body', body => $body });
}

async sub drain_body {
    my ($receive) = @_;
    while (1) {
        my $event = await $receive->();
        last if $event->{type} ne 'http.request' || !$event->{more};
    }
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
    await drain_body($receive);
    my $path = $scope->{path};
    my $tag = $ENV{E2E_TAG} // '';
    if ($path =~ m{/busy$}) {    # blocks the event loop for good
        1 while 1;
    }
    if ($path =~ m{/slow$}) {    # never answers, but stays responsive
        await Future::IO->sleep(0.02) while 1;
    }
    if ($path =~ m{/leak$}) {    # about 8 MB more resident memory each call
        push @LEAK, 'x' x (8 * 1024 * 1024);
        return await respond($send, 200, "leaked $$");
    }
    if ($path =~ m{/sleep$}) {
        await Future::IO->sleep(0.05);
    }
    my %info = (
        pid       => $$,
        tag       => $tag,
        path      => $path,
        root_path => $scope->{root_path},
        params    => ($scope->{'pagi.route'} // {})->{params} // {},
    );
    await respond($send, 200, $JSON->encode(\%info));
};

$app;
