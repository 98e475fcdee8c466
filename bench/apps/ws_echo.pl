# Benchmark app (PAGI): WebSocket echo, each message sent back unchanged
# (text as text, bytes as bytes). Also the app the Autobahn fuzzing client
# runs against (bench/run-autobahn). Same app in ASGI: python/ws_echo_asgi.py.
use strict;
use warnings;
use Future::AsyncAwait;

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
    if ($scope->{type} eq 'http') {
        # The browser-free idle benchmark checks the gateway is up this way.
        await $send->({ type => 'http.response.start', status => 200, headers => [ [ 'content-type', 'text/plain' ] ] });
        await $send->({ type => 'http.response.body', body => "ws echo\n" });
        return;
    }
    die "unsupported scope type $scope->{type}\n" unless $scope->{type} eq 'websocket';
    await $receive->();    # websocket.connect
    await $send->({ type => 'websocket.accept' });
    while (1) {
        my $event = await $receive->();
        return if $event->{type} eq 'websocket.disconnect';
        next unless $event->{type} eq 'websocket.receive';
        await $send->(defined $event->{bytes}
            ? { type => 'websocket.send', bytes => $event->{bytes} }
            : { type => 'websocket.send', text  => $event->{text} });
    }
};

$app;
