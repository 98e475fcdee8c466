# WebSocket echo in the style of the PAGI examples (04-websocket-echo), with
# the handshake answers the e2e tests need, chosen by path:
#   /         accept (with the client's first subprotocol, if any), echo text
#             as "echo: TEXT" and bytes as is; the text "close" makes the app
#             close with 4000 "bye"; "keepalive" turns on pings (0.2 s, 1 s pong timeout)
#   /deny     denial response 401 + WWW-Authenticate (extension), else close
#   /reject   websocket.close before accept (403)
#   /die      accept, then the app dies (close 1011)
# Any other scope type gets a plain text answer, so the pool also serves http.
use strict;
use warnings;
use Future::AsyncAwait;

async sub http_answer {
    my ($scope, $receive, $send) = @_;
    await $send->({ type => 'http.response.start', status => 200, headers => [ [ 'content-type', 'text/plain' ] ] });
    await $send->({ type => 'http.response.body', body => "not a websocket: $scope->{type}\n" });
}

async sub echo {
    my ($scope, $receive, $send) = @_;
    my %accept = (type => 'websocket.accept');
    $accept{subprotocol} = $scope->{subprotocols}[0] if @{ $scope->{subprotocols} || [] };
    await $send->(\%accept);
    while (1) {
        my $frame = await $receive->();
        return if $frame->{type} eq 'websocket.disconnect';
        next unless $frame->{type} eq 'websocket.receive';
        if (defined $frame->{bytes}) {
            await $send->({ type => 'websocket.send', bytes => $frame->{bytes} });
        }
        elsif ($frame->{text} eq 'close') {
            await $send->({ type => 'websocket.close', code => 4000, reason => 'bye' });
        }
        elsif ($frame->{text} eq 'keepalive') {
            await $send->({ type => 'websocket.keepalive', interval => 0.2, timeout => 1 });
            await $send->({ type => 'websocket.send', text => 'keepalive on' });
        }
        else {
            await $send->({ type => 'websocket.send', text => "echo: $frame->{text}" });
        }
    }
}

my %ROUTE = (
    '/' => \&echo,
    '/deny' => async sub {
        my ($scope, $receive, $send) = @_;
        if ($scope->{extensions}{'websocket.http.response'}) {
            await $send->({ type => 'websocket.http.response.start', status => 401,
                            headers => [ [ 'www-authenticate', 'Bearer' ], [ 'content-type', 'text/plain' ] ] });
            await $send->({ type => 'websocket.http.response.body', body => 'unauthorized' });
        }
        else {
            await $send->({ type => 'websocket.close' });
        }
    },
    '/reject' => async sub { my ($scope, $receive, $send) = @_; await $send->({ type => 'websocket.close' }) },
    '/die' => async sub {
        my ($scope, $receive, $send) = @_;
        await $send->({ type => 'websocket.accept' });
        die "the app died on purpose\n";
    },
);

return async sub {
    my ($scope, $receive, $send) = @_;
    die "no lifespan\n" if $scope->{type} eq 'lifespan';
    return await http_answer($scope, $receive, $send) unless $scope->{type} eq 'websocket';
    my $event = await $receive->();
    die "expected websocket.connect, got $event->{type}\n" unless $event->{type} eq 'websocket.connect';
    my $h = $ROUTE{ $scope->{path} } // \&echo;
    await $h->($scope, $receive, $send);
};
