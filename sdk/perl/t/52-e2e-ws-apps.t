# The e2e suite's Perl WebSocket/SSE apps (tests/e2e/apps/ws/) under the fake
# gateway: they load and behave as their headers say.
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use lib dirname(__FILE__) . '/lib';
use FakeGateway;

my $apps = abs_path(dirname(__FILE__) . '/../../../tests/e2e/apps/ws');
skip_all "no $apps" unless -d $apps;

sub gateway {
    my ($app, %w) = @_;
    my $g = FakeGateway->spawn(app => "$apps/$app");
    $g->handshake(lifespan => 'off', %w);
    return $g;
}

sub open_ws {
    my ($g, %args) = @_;
    return $g->open_http(scopeType => 'websocket', scheme => 'ws', hasBody => 0, more => 0, extensions => 2,
                         subprotocols => [], %args, then => [ { scope => $g->{next_scope}, type => 'websocketConnect' } ]);
}

# Next message for $id that is not credit.
sub next_for { my ($g, $id) = @_; $g->next_for($id, skip_credit => 1) }

subtest 'echo.pl' => sub {
    my $g = gateway('echo.pl');
    my $id = open_ws($g, path => '/', subprotocols => [ 'chat' ]);
    is next_for($g, $id)->{subprotocol}, 'chat';
    $g->send({ scope => $id, type => 'websocketReceive', isText => 1, text => 'hi' });
    is next_for($g, $id)->{text}, 'echo: hi';
    $g->send({ scope => $id, type => 'websocketReceive', isText => 1, text => 'close' });
    is next_for($g, $id), { scope => $id, type => 'websocketClose', code => 4000, reason => 'bye' };
    $g->send({ scope => $id, type => 'websocketDisconnect', code => 4000, reason => '' });
    is next_for($g, $id)->{type}, 'scopeEnd';
    $id = open_ws($g, path => '/deny');
    is next_for($g, $id)->{status}, 401;
    is next_for($g, $id)->{body}, 'unauthorized';
    $g->send({ scope => 0, type => 'shutdown' });
    is $g->wait_exit, 0;
};

subtest 'broadcaster.pl: sse ticks and a chat room' => sub {
    my $g = gateway('broadcaster.pl');
    my $id = $g->open_http(scopeType => 'sse', path => '/events', queryString => 'n=2');
    is next_for($g, $id)->{type}, 'sseStart';
    my $m = next_for($g, $id);
    is [ @$m{qw(type event id data)} ], [ 'sseSend', 'tick', '1', "tick 1\nline two" ];
    is next_for($g, $id)->{type}, 'sseComment';
    is next_for($g, $id)->{id}, '2';
    is next_for($g, $id)->{type}, 'sseClose';
    is next_for($g, $id)->{type}, 'scopeEnd';
    $id = $g->open_http(scopeType => 'sse', path => '/decline');
    is next_for($g, $id)->{status}, 204;
    is next_for($g, $id)->{type}, 'sseHttpResponseBody';
    is next_for($g, $id)->{type}, 'scopeEnd';
    my $a = open_ws($g, path => '/');
    is next_for($g, $a)->{type}, 'websocketAccept';
    my $b = open_ws($g, path => '/');
    is next_for($g, $b)->{type}, 'websocketAccept';
    $g->send({ scope => $a, type => 'websocketReceive', isText => 1, text => 'to all' });
    my %got;
    for (1 .. 2) { my $x = $g->recv; redo if $x->{type} eq 'credit'; $got{ $x->{scope} } = $x->{text} }
    is \%got, { $a => 'to all', $b => 'to all' };
    $g->send({ scope => 0, type => 'shutdown' });
    is $g->wait_exit, 0;
};

subtest 'bidirectional.pl and conflate.pl' => sub {
    my $g = gateway('bidirectional.pl');
    my $id = open_ws($g, path => '/');
    is next_for($g, $id)->{type}, 'websocketAccept';
    is next_for($g, $id)->{text}, 'server tick #1';
    $g->send({ scope => $id, type => 'websocketDisconnect', code => 1001, reason => '' });
    my $m;
    do { $m = next_for($g, $id) } until $m->{type} eq 'scopeEnd';
    is $m->{failed}, 0, 'the disconnect ended the reader; the ticker was cancelled';
    $g->send({ scope => 0, type => 'shutdown' });
    is $g->wait_exit, 0;

    $g = gateway('conflate.pl', sendWindow => 8192);
    $id = open_ws($g, path => '/', queryString => 'n=50&size=1000');
    is next_for($g, $id)->{type}, 'websocketAccept';
    my $n = 0;
    while (1) {
        $m = next_for($g, $id);
        last if $m->{isText};
        $n++;
        # A slow client: credit comes back for every other message only.
        $g->send({ scope => $id, type => 'credit', bytes => 2000 }) if $n % 2 == 0;
    }
    like $m->{text}, qr/^done sent=(\d+) skipped=(\d+) high=8192$/;
    my ($sent, $skipped) = $m->{text} =~ /sent=(\d+) skipped=(\d+)/;
    is $sent, $n, 'every update sent reached the gateway';
    $g->send({ scope => 0, type => 'shutdown' });
    is $g->wait_exit, 0;
};

done_testing;
