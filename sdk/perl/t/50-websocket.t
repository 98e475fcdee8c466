# websocket scopes end to end: a fake gateway (t/lib/FakeGateway.pm) drives
# bin/pagi-worker-perl running t/apps/stream.pl. Synchronisation is by
# messages only (a heartbeat echo proves the worker flushed what it had).
use strict;
use warnings;
use utf8;
use Test2::V0;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use FakeGateway;
use Frames qw(types utf8_bytes);
use JSON::PP ();

my $EXT_WS_RESPONSE = 2;
$FakeGateway::DEADLINE = $ENV{FG_DEADLINE} if $ENV{FG_DEADLINE};
my $g = FakeGateway->spawn(app => dirname(__FILE__) . '/apps/stream.pl');
my ($hello) = $g->handshake(lifespan => 'off', sendWindow => 64, receiveWindow => 16);
is $hello->{scopeTypes} & 2, 2, 'hello advertises websocket';

sub open_ws {
    my (%args) = @_;
    my $connect = delete $args{connect} // 1;
    return $g->open_http(scopeType => 'websocket', method => '', scheme => 'ws', hasBody => 0, more => 0,
        headers => [ 'host', 'example.test', 'upgrade', 'websocket', 'sec-websocket-protocol', 'chat, superchat' ],
        subprotocols => [ 'chat', 'superchat' ], extensions => $EXT_WS_RESPONSE, %args,
        then => $connect ? [ { scope => $g->{next_scope}, type => 'websocketConnect' } ] : []);
}

# The next message for scope $id; credit for received messages is counted
# in $g->{credited} and skipped unless $with_credit.
sub next_for {
    my ($id, $with_credit) = @_;
    return $g->next_for($id, skip_credit => !$with_credit);
}

subtest 'accept, echo text and bytes, scope keys, close by the app' => sub {
    my $id = open_ws(path => '/echo');
    is next_for($id), { scope => $id, type => 'websocketAccept', hasSubprotocol => 1, subprotocol => 'superchat',
                        headers => [ 'x-ws', 'yes' ] }, 'accept with subprotocol and headers';
    $g->send({ scope => $id, type => 'websocketReceive', isText => 1, text => utf8_bytes('héllo ✓') });
    my $m = next_for($id);
    is $m->{type}, 'websocketSend';
    is $m->{isText}, 1;
    is $m->{text}, utf8_bytes('echo: héllo ✓ len=7'), 'text decoded to characters, reply encoded to UTF-8';
    $g->send({ scope => $id, type => 'websocketReceive', isText => 0, bytes => "\x00\xff\x80" });
    is next_for($id), { scope => $id, type => 'websocketSend', isText => 0, bytes => "\x00\xff\x80", text => '' }, 'bytes pass through';
    # The client read what was sent so far: credit it back.
    $g->send({ scope => $id, type => 'credit', bytes => 64 });
    $g->send({ scope => $id, type => 'websocketReceive', isText => 1, text => 'scope' });
    $m = next_for($id);
    my $s = JSON::PP->new->decode($m->{text});
    is $s->{type}, 'websocket';
    is $s->{scheme}, 'ws';
    is $s->{subprotocols}, [ 'chat', 'superchat' ];
    is $s->{extensions}, { 'websocket.http.response' => {} };
    ok !exists $s->{method}, 'no method key';
    ok !exists $s->{'pagi.connection'}, 'no pagi.connection (not applicable to websocket)';
    is $s->{transport}, [ 0, 64, 32 ], 'pagi.transport: buffered, high and low water marks';
    $g->send({ scope => $id, type => 'websocketReceive', isText => 1, text => 'close' });
    is next_for($id), { scope => $id, type => 'websocketClose', code => 4000, reason => utf8_bytes('bye ✓') };
    $g->send({ scope => $id, type => 'websocketDisconnect', code => 4000, reason => '' });
    is next_for($id), { scope => $id, type => 'scopeEnd', failed => 0, message => '' }, 'no extra close after the app closed';
    is $g->{credited}{$id}, length(utf8_bytes('héllo ✓')) + 3 + 5 + 5, 'every received byte was credited back (UTF-8 length for text)';
};

subtest 'received messages are credited back' => sub {
    my $id = open_ws(path => '/echo');
    next_for($id);    # accept
    $g->send({ scope => $id, type => 'websocketReceive', isText => 0, bytes => 'x' x 5 });
    is next_for($id)->{type}, 'websocketSend';
    # The app waits again with 5 bytes uncredited: credit goes back at once.
    is next_for($id, 1), { scope => $id, type => 'credit', bytes => 5 };
    $g->send({ scope => $id, type => 'credit', bytes => 5 });
    $g->send({ scope => $id, type => 'websocketDisconnect', code => 1006, reason => 'client_closed' });
    is next_for($id), { scope => $id, type => 'scopeEnd', failed => 0, message => '' },
        'a send after the disconnect is a no-op';
};

subtest 'send window: waits for credit; pagi.transport' => sub {
    my $id = open_ws(path => '/flow');
    is next_for($id)->{type}, 'websocketAccept';
    my $first = next_for($id);
    is [ $first->{type}, length $first->{bytes} ], [ 'websocketSend', 40 ];
    is $g->settle, [], 'the second message waits for credit (40 + 40 > 64)';
    $g->send({ scope => $id, type => 'credit', bytes => 40 });
    is length(next_for($id)->{bytes}), 40;
    is $g->settle, [], 'the third waits too';
    $g->send({ scope => $id, type => 'credit', bytes => 40 });
    is length(next_for($id)->{bytes}), 40;
    $g->send({ scope => $id, type => 'credit', bytes => 40 });
    my $report = JSON::PP->new->decode(next_for($id)->{text});
    is $report, { ready => [ 1, 0, 0 ], marks => [] }, 'first resolved at once, the others waited';
    $g->send({ scope => $id, type => 'websocketDisconnect', code => 1001, reason => '' });
    is next_for($id)->{type}, 'scopeEnd';
};

subtest 'denial response (extension)' => sub {
    my $id = open_ws(path => '/deny');
    my $got = $g->settle;
    is $got, [
        { scope => $id, type => 'websocketHttpResponseStart', status => 401, trailers => 0, headers => [ 'www-authenticate', 'Bearer' ] },
        { scope => $id, type => 'websocketHttpResponseBody', body => 'no ', more => 1 },
        { scope => $id, type => 'websocketHttpResponseBody', body => 'entry', more => 0 },
        { scope => $id, type => 'scopeEnd', failed => 0, message => '' },
    ], 'status, headers, two-part body; receive then gives a disconnect; accept after it is a no-op';
};

subtest 'denial without the extension raises' => sub {
    my $id = open_ws(path => '/deny-no-ext', extensions => 0);
    is $g->settle, [
        { scope => $id, type => 'websocketClose', code => 1000, reason => 'ok' },
        { scope => $id, type => 'scopeEnd', failed => 0, message => '' },
    ];
};

subtest 'close before accept (403) and no answer at all' => sub {
    my $id = open_ws(path => '/reject');
    is $g->settle, [
        { scope => $id, type => 'websocketClose', code => 1000, reason => '' },
        { scope => $id, type => 'scopeEnd', failed => 0, message => '' },
    ], 'close before accept; receive then gives a disconnect';
    $id = open_ws(path => '/noanswer');
    is $g->settle, [
        { scope => $id, type => 'websocketClose', code => 1000, reason => '' },
        { scope => $id, type => 'scopeEnd', failed => 0, message => '' },
    ], 'an app that returns without answering rejects the handshake';
};

subtest 'the app dies after accept: close 1011' => sub {
    my $id = open_ws(path => '/die');
    is $g->settle, [
        { scope => $id, type => 'websocketAccept', hasSubprotocol => 0, subprotocol => '', headers => [] },
        { scope => $id, type => 'websocketClose', code => 1011, reason => '' },
        { scope => $id, type => 'scopeEnd', failed => 1, message => "boom\n" },
    ];
};

subtest 'keepalive: held until accept, last wins; denial events ignored after accept' => sub {
    my $id = open_ws(path => '/keepalive');
    is types($g->settle), [qw(websocketAccept websocketKeepalive websocketKeepalive websocketClose scopeEnd)];
    $id = open_ws(path => '/keepalive');
    my $got = $g->settle;
    is [ @$got[ 1, 2 ] ], [
        { scope => $id, type => 'websocketKeepalive', intervalMs => 250, timeoutMs => 2000, comment => '' },
        { scope => $id, type => 'websocketKeepalive', intervalMs => 0, timeoutMs => 0, comment => '' },
    ];
    $id = open_ws(path => '/after-accept-denial');
    is types($g->settle), [qw(websocketAccept websocketClose scopeEnd)];
};

subtest 'validation failures fail the send, not the worker' => sub {
    my $id = open_ws(path => '/validate');
    is next_for($id)->{type}, 'websocketAccept';
    my $errors = JSON::PP->new->decode(next_for($id)->{text});
    is $errors, [
        match(qr/websocket\.send before websocket\.accept/),
        match(qr/exactly one of text or bytes/),
        match(qr/exactly one of text or bytes/),
        match(qr/wide characters/),
        match(qr/surrogate/),
        match(qr/text must be a string/),
        match(qr/code 1005 may not be sent/),
        match(qr/code must be an integer/),
        match(qr/reason is over 123 bytes/),
        match(qr/interval must be a non-negative number/),
        match(qr/interval must be a non-negative number/),
        match(qr/accept after the connection was accepted/),
        match(qr/unsupported event type 'websocket\.ping'/),
        match(qr/unsupported event type 'http\.response\.start'/),
        match(qr/expects an event hash reference/),
    ];
    is next_for($id), { scope => $id, type => 'websocketClose', code => 1000, reason => '' };
    is next_for($id), { scope => $id, type => 'scopeEnd', failed => 0, message => '' },
        'the send after close was a no-op; no second close';
};

subtest 'client disconnect before the app answered' => sub {
    my $id = open_ws(path => '/echo', connect => 0);
    $g->send({ scope => $id, type => 'websocketDisconnect', code => 1006, reason => 'client_closed' });
    my $got = $g->settle;
    # The app's receive got the disconnect instead of connect: it dies; nothing but scopeEnd goes out.
    is types($got), ['scopeEnd'];
    is $got->[0]{failed}, 1;
};

$g->send({ scope => 0, type => 'shutdown' });
is $g->wait_exit, 0, 'worker exits 0';
unlike $g->stderr_text, qr/protocol|uninitialized/i, 'no warnings or protocol errors';


done_testing;
