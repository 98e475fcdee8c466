# sse scopes end to end: a fake gateway (t/lib/FakeGateway.pm) drives
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

$FakeGateway::DEADLINE = $ENV{FG_DEADLINE} if $ENV{FG_DEADLINE};
my $g = FakeGateway->spawn(app => dirname(__FILE__) . '/apps/stream.pl');
my ($hello) = $g->handshake(lifespan => 'off', sendWindow => 64, receiveWindow => 16);
is $hello->{scopeTypes} & 4, 4, 'hello advertises sse';

sub open_sse {
    my (%args) = @_;
    return $g->open_http(scopeType => 'sse', headers => [ 'host', 'example.test', 'accept', 'text/event-stream' ], %args);
}

sub next_for { $g->next_for($_[0]) }

subtest 'POST body, start, send, comment, keepalive, close; later sends raise' => sub {
    my $id = open_sse(method => 'POST', path => '/events', body => 'a' x 10, more => 1);
    is next_for($id), { scope => $id, type => 'credit', bytes => 10 }, 'request body credited (half the window)';
    $g->send({ scope => $id, type => 'sseRequest', body => 'b' x 10, more => 1 });
    is next_for($id), { scope => $id, type => 'credit', bytes => 10 };
    $g->send({ scope => $id, type => 'sseRequest', body => 'c', more => 0 });
    my $got = $g->settle;
    is $got, [
        { scope => $id, type => 'sseStart', status => 200, trailers => 0, headers => [ 'x-body', ('a' x 10) . ('b' x 10) . 'c' ] },
        { scope => $id, type => 'sseKeepalive', intervalMs => 15000, timeoutMs => 0, comment => 'early' },
        { scope => $id, type => 'sseSend', data => utf8_bytes("line 1\nlïne 2"), hasEvent => 1, event => 'tick',
          hasId => 1, id => '7', retry => 1500 },
        { scope => $id, type => 'sseSend', data => '', hasEvent => 0, event => '', hasId => 0, id => '', retry => -1 },
        { scope => $id, type => 'sseComment', text => 'hi' },
        { scope => $id, type => 'sseKeepalive', intervalMs => 500, timeoutMs => 0, comment => 'ping' },
        { scope => $id, type => 'sseClose', text => 'job_complete' },
        { scope => $id, type => 'scopeEnd', failed => 0, message => '' },
    ], 'default status 200; keepalive before start held until start; data UTF-8; one close only';
};

subtest '100-continue: the first receive sends the credit' => sub {
    my $id = open_sse(method => 'POST', path => '/events', hasBody => 0, expectContinue => 1);
    is next_for($id), { scope => $id, type => 'credit', bytes => 16 };
    $g->send({ scope => $id, type => 'sseRequest', body => 'z', more => 0 });
    my $got = $g->settle;
    is $got->[0]{headers}, [ 'x-body', 'z' ];
    is $got->[-1]{type}, 'scopeEnd';
};

subtest 'decline with 204; stream events then raise' => sub {
    my $id = open_sse(path => '/decline');
    is $g->settle, [
        { scope => $id, type => 'sseHttpResponseStart', status => 204, trailers => 0, headers => [ 'x-why', 'stop' ] },
        { scope => $id, type => 'sseHttpResponseBody', body => '', more => 0 },
        { scope => $id, type => 'scopeEnd', failed => 0, message => '' },
    ];
};

subtest 'validation failures fail the send, not the worker' => sub {
    my $id = open_sse(path => '/validate');
    my $got = $g->settle;
    is types($got), [qw(sseStart sseSend)], 'the report waits for credit';
    $g->send({ scope => $id, type => 'credit', bytes => 2 });
    push @$got, @{ $g->settle };
    is types($got), [qw(sseStart sseSend sseSend sseClose scopeEnd)];
    is [ @{ $got->[1] }{qw(data event hasId id)} ], [ 'ok', 'e', 1, '' ], 'an empty id is allowed (it resets the last id)';
    my $errors = JSON::PP->new->decode($got->[2]{data});
    is $errors, [
        match(qr/sse\.send before sse\.start/),
        match(qr/sse\.close before sse\.start/),
        match(qr/sse\.http\.response\.body before sse\.http\.response\.start/),
        match(qr/data is required/),
        match(qr/event must not contain CR, LF or NUL/),
        match(qr/id must not contain CR, LF or NUL/),
        match(qr/id must not contain CR, LF or NUL/),
        match(qr/retry must be a non-negative integer/),
        match(qr/retry must be a non-negative integer/),
        match(qr/data must be a string/),
        match(qr/comment must not contain CR, LF or NUL/),
        match(qr/interval must be a non-negative number/),
        match(qr/sse\.start sent twice/),
        match(qr/sse\.http\.response\.start after sse\.start/),
        match(qr/unsupported event type 'http\.response\.body'/),
        'ok',
    ];
    is $got->[3], { scope => $id, type => 'sseClose', text => '' }, 'returning ends the stream';
};

subtest 'client disconnect: sse.disconnect, then sends are no-ops; scope keys' => sub {
    my $id = open_sse(path => '/wait', method => 'GET');
    is next_for($id)->{type}, 'sseStart';
    my $s = JSON::PP->new->decode(next_for($id)->{data});
    is $s->{type}, 'sse';
    is $s->{method}, 'GET';
    is $s->{scheme}, 'http';
    ok !exists $s->{'pagi.connection'}, 'no pagi.connection (not applicable to sse)';
    is $s->{transport}[1], 64, 'pagi.transport high water mark = send window';
    is $s->{transport}[0], 0, 'nothing buffered yet';
    $g->send({ scope => $id, type => 'sseDisconnect', reason => 'client_closed' });
    is $g->settle, [ { scope => $id, type => 'scopeEnd', failed => 0, message => '' } ],
        'the send after the disconnect is a no-op; no close';
};

subtest 'send window waits for credit' => sub {
    my $id = open_sse(path => '/flow');
    is next_for($id)->{type}, 'sseStart';
    is length(next_for($id)->{data}), 40;
    is $g->settle, [], 'the second event waits (40 + 40 > 64)';
    $g->send({ scope => $id, type => 'credit', bytes => 40 });
    is length(next_for($id)->{data}), 40;
    $g->send({ scope => $id, type => 'credit', bytes => 40 });
    is next_for($id)->{data}, 'second was ready: 0';
    is types($g->settle), [qw(sseClose scopeEnd)];
};

subtest 'no answer: 500 decline' => sub {
    my $id = open_sse(path => '/noanswer');
    my $got = $g->settle;
    is types($got), [qw(sseHttpResponseStart sseHttpResponseBody scopeEnd)];
    is $got->[0]{status}, 500;
    like $g->stderr_text, qr/returned without sse\.start/;
};

$g->send({ scope => 0, type => 'shutdown' });
is $g->wait_exit, 0, 'worker exits 0';
unlike $g->stderr_text, qr/protocol|uninitialized|died/i, 'no warnings or protocol errors';

done_testing;
