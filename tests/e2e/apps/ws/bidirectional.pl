# Bidirectional WebSocket in the style of PAGI example 18: after accept, one
# branch echoes client text upper-cased ("you said: TEXT") while another
# pushes "server tick #N" every 50 ms unprompted; Future->wait_any joins
# them, so a disconnect ends the reader and cancels the ticker.
use strict;
use warnings;
use Future::AsyncAwait;
use Future::IO;

return async sub {
    my ($scope, $receive, $send) = @_;
    die "no lifespan\n" if $scope->{type} eq 'lifespan';
    die "websocket only\n" unless $scope->{type} eq 'websocket';
    my $event = await $receive->();
    die "expected websocket.connect\n" unless $event->{type} eq 'websocket.connect';
    await $send->({ type => 'websocket.accept' });
    my $incoming = (async sub {
        while (1) {
            my $frame = await $receive->();
            last if $frame->{type} eq 'websocket.disconnect';
            next unless defined $frame->{text};
            await $send->({ type => 'websocket.send', text => "you said: \U$frame->{text}" });
        }
    })->();
    my $outgoing = (async sub {
        my $n = 0;
        while (1) {
            await Future::IO->sleep(0.05);
            $n++;
            await $send->({ type => 'websocket.send', text => "server tick #$n" });
        }
    })->();
    await Future->wait_any($incoming, $outgoing);
};
