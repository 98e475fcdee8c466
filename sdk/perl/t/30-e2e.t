# End to end in-process: a fake gateway (t/lib/FakeGateway.pm) spawns
# bin/pagi-worker-perl on t/apps/main.pl over a socketpair and checks frames.
# Synchronisation is by messages only: a heartbeat echo proves the worker's
# loop has flushed everything it had.
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use FakeGateway;
use Frames qw(types);
use JSON::PP ();

my $g = FakeGateway->spawn;
my ($hello, $ls) = $g->handshake(sendWindow => 64, receiveWindow => 8);
is $hello, { scope => 0, type => 'hello', protocolVersion => 1, pid => $g->pid, concurrency => 100, scopeTypes => 7,
             sdkName => 'pagi-worker-perl', sdkVersion => match(qr/^\d+\.\d+/), pool => '', app => match(qr/main\.pl$/),
             skipResponseDone => 0 },  # PAGI apps use on_complete
    'hello';
is $ls, { scope => 1, type => 'lifespanStartupComplete' }, 'lifespan startup complete';


subtest 'heartbeat is echoed' => sub {
    $g->send({ scope => 0, type => 'heartbeat', seq => 77 });
    is $g->recv, { scope => 0, type => 'heartbeat', seq => 77 };
};

subtest 'GET: start, body and scopeEnd in one write' => sub {
    my $id = $g->open_http(path => '/hello');
    my $first = $g->recv;
    is $g->queued, 2, 'the other two frames arrived with the first';
    my $got = [ $first, @{ $g->until_end($id) } ];
    is types($got), [qw(httpResponseStart httpResponseBody scopeEnd)];
    is $got->[0]{status}, 200;
    is $got->[0]{headers}, [ 'content-type', 'text/plain' ];
    is $got->[1]{body}, 'Hello, world!';
    is $got->[1]{more}, 0;
    is $got->[2]{failed}, 0;
    $g->send({ scope => $id, type => 'responseDone' });
};

subtest 'scope keys' => sub {
    my $id = $g->open_http(path => '/scope', rawPath => '/scope', queryString => 'a=1&b=%20', rootPath => '/app',
        headers => [ 'host', 'example.test', 'x-multi', 'one', 'x-multi', 'two' ], extensions => 1,
        httpVersion => '2', scheme => 'https', requestId => 'r-9', routeParams => [ 'id', '7' ]);
    my $got = $g->until_end($id);
    my $s = JSON::PP->new->decode($got->[1]{body});
    is $s, {
        type => 'http', pagi => { version => '0.3', spec_version => '0.3' }, http_version => '2', method => 'GET',
        scheme => 'https', path => '/scope', raw_path => '/scope', query_string => 'a=1&b=%20', root_path => '/app',
        headers => [ [ 'host', 'example.test' ], [ 'x-multi', 'one' ], [ 'x-multi', 'two' ] ],
        client => [ '127.0.0.1', 40000 ], server => [ '127.0.0.1', 8080 ], extensions => { fullflush => {} },
        state_greeting => 'hi from lifespan', has_connection => 1, has_transport => 1, high_water_mark => 64,
    }, 'scope built per the spec (state from lifespan)';
    $g->send({ scope => $id, type => 'responseDone' });
    # A unix listener: server is [path, undef]; no client.
    $id = $g->open_http(path => '/scope', clientHost => '', serverIsUnix => 1, serverHost => '/tmp/gw.sock', serverPort => 0);
    $s = JSON::PP->new->decode($g->until_end($id)->[1]{body});
    is $s->{server}, [ '/tmp/gw.sock', undef ];
    ok !exists $s->{client}, 'no client for a unix listener';
    $g->send({ scope => $id, type => 'responseDone' });
};

subtest 'POST with body chunks and credit' => sub {
    # receiveWindow is 8: the gateway sends 8 bytes, then waits for credit.
    my $id = $g->open_http(path => '/echo', method => 'POST', body => 'abcd', more => 1);
    $g->send({ scope => $id, type => 'httpRequest', body => 'efgh', more => 1 });
    my $outstanding = 8;
    my @rest = ('ijkl', 'mn');
    my @got;
    while (my $m = $g->recv) {
        push @got, $m;
        last if $m->{type} eq 'scopeEnd';
        next unless $m->{type} eq 'credit';
        $outstanding -= $m->{bytes};
        ok $outstanding >= 0, "credit ($m->{bytes}) never exceeds what was sent";
        while (@rest && $outstanding + length($rest[0]) <= 8) {
            my $chunk = shift @rest;
            $outstanding += length $chunk;
            $g->send({ scope => $id, type => 'httpRequest', body => $chunk, more => @rest ? 1 : 0 });
        }
    }
    # Chunks that arrive in one read reach the app as one event (Wire::merge_bodies),
    # so it sees 2 to 4 events depending on how the socket delivered them.
    like [ grep { $_->{type} ne 'credit' } @got ]->[1]{body}, qr/\A[234]:abcdefghijklmn\z/, 'app got every byte in order';
    ok scalar(grep { $_->{type} eq 'credit' } @got) >= 1, 'credit was returned as the app consumed';
    $g->send({ scope => $id, type => 'responseDone' });
};

subtest 'expectContinue: credit on the first receive' => sub {
    my $id = $g->open_http(path => '/echo', method => 'PUT', hasBody => 0, more => 0, expectContinue => 1);
    is $g->recv, { scope => $id, type => 'credit', bytes => 8 }, 'credit of receiveWindow opens the body';
    $g->send({ scope => $id, type => 'httpRequest', body => 'xyz', more => 0 });
    my $got = $g->until_end($id);
    is $got->[1]{body}, '1:xyz';
    $g->send({ scope => $id, type => 'responseDone' });
};

subtest 'disconnect mid-response' => sub {
    my $id = $g->open_http(path => '/wait-disconnect');
    is types([ $g->recv, $g->recv ]), [qw(httpResponseStart httpResponseBody)];
    $g->send({ scope => $id, type => 'httpDisconnect', reason => 'client_closed' });
    my $got = $g->until_end($id);
    is $got, [ { scope => $id, type => 'scopeEnd', failed => 0, message => '' } ], 'no late body, no 500';
    $g->settle;
    like $g->stderr_text, qr/LOG: on_disconnect:client_closed:0 receive:http.disconnect future:client_closed late-send-ok reason:client_closed late-cb:client_closed/,
        'connection state order; send after disconnect is a no-op; late registration fires';
};

subtest 'on_complete after responseDone' => sub {
    my $id = $g->open_http(path => '/complete');
    is types($g->until_end($id)), [qw(httpResponseStart httpResponseBody scopeEnd)];
    $g->send({ scope => $id, type => 'responseDone' });
    $g->settle;
    like $g->stderr_text, qr/LOG: after-respond started=1 complete=1\nLOG: on_complete connected=0\n/;
    unlike $g->stderr_text, qr/LOG: on_disconnect\n/;
};

subtest 'app dies: 500 and a logged exception' => sub {
    my $id = $g->open_http(path => '/die');
    my $got = $g->until_end($id);
    is types($got), [qw(httpResponseStart httpResponseBody scopeEnd)];
    is $got->[0]{status}, 500;
    is $got->[2]{failed}, 1;
    like $got->[2]{message}, qr/boom from \/die/;
    $g->settle;
    like $g->stderr_text, qr{GET /die: app died: boom from /die};
};

subtest 'app returns nothing: 500' => sub {
    my $id = $g->open_http(path => '/nothing');
    my $got = $g->until_end($id);
    is types($got), [qw(httpResponseStart httpResponseBody scopeEnd)];
    is $got->[0]{status}, 500;
    is $got->[2]{failed}, 0;
    $g->settle;
    like $g->stderr_text, qr{GET /nothing: app returned without a response};
};

subtest 'send window: waits for credit' => sub {
    my $id = $g->open_http(path => '/stream', queryString => 'n=2&size=70');
    my @m = ($g->recv, $g->recv);
    is types(\@m), [qw(httpResponseStart httpResponseBody)];
    is length $m[1]{body}, 70, 'larger than the window: allowed with nothing in flight';
    is $g->settle, [], 'the next chunk waits for credit';
    $g->send({ scope => $id, type => 'credit', bytes => 70 });
    my $m = $g->recv;
    is [ $m->{type}, length $m->{body}, $m->{more} ], [ 'httpResponseBody', 70, 1 ];
    is $g->settle, [], 'waits again';
    $g->send({ scope => $id, type => 'credit', bytes => 70 });
    my $got = $g->until_end($id);
    is $got->[0]{body}, 'high:70,drain:0,high:70', 'transport watermarks followed the credit';
    is $got->[1]{type}, 'scopeEnd';
    $g->send({ scope => $id, type => 'responseDone' });
};

subtest 'file and fh bodies, Future::IO sleep, concurrent scopes' => sub {
    my $a = $g->open_http(path => '/sleep');
    my $b = $g->open_http(path => '/file');
    my $c = $g->open_http(path => '/fh');
    my %by;
    for (1 .. 9) { my $m = $g->recv; push @{ $by{ $m->{scope} } }, $m }
    is $by{$b}[1]{file}, match(qr{^/.*/t/apps/main\.pl$});
    is [ @{ $by{$b}[1] }{qw(offset length)} ], [ 2, 5 ];
    is $by{$c}[1]{body}, '3456';
    is $by{$a}[1]{body}, 'slept';
    is [ map { $_->[2]{type} } @by{ $a, $b, $c } ], [qw(scopeEnd scopeEnd scopeEnd)];
    $g->send(map { { scope => $_, type => 'responseDone' } } $a, $b, $c);
};

subtest 'bad header fails the send, not the worker' => sub {
    my $id = $g->open_http(path => '/bad-header');
    my $got = $g->until_end($id);
    like $got->[1]{body}, qr/^rejected: .*CR, LF, NUL/;
    $g->send({ scope => $id, type => 'responseDone' });
};

subtest 'messages for ended scopes are ignored' => sub {
    $g->send({ scope => 11, type => 'credit', bytes => 5 }, { scope => 12, type => 'httpDisconnect', reason => 'client_closed' });
    is $g->settle, [];
};

subtest 'lifespan shutdown, then shutdown exits 0' => sub {
    $g->send({ scope => 1, type => 'lifespanShutdown' });
    is $g->recv, { scope => 1, type => 'lifespanShutdownComplete' };
    $g->send({ scope => 0, type => 'shutdown' });
    is $g->wait_exit, 0;
};

subtest 'lifespan: app raises -> unsupported (auto), failed (on); off skips it' => sub {
    my $g2 = FakeGateway->spawn(app => dirname(__FILE__) . '/apps/no-lifespan.pl');
    my (undef, $ans) = $g2->handshake;
    is $ans, { scope => 1, type => 'lifespanUnsupported', text => "no lifespan here\n" };
    my $id = $g2->open_http(path => '/');
    is $g2->until_end($id)->[0]{status}, 204, 'serves after unsupported lifespan';
    # shutdown with lifespan unsupported: exits at once.
    $g2->send({ scope => 0, type => 'shutdown' });
    is $g2->wait_exit, 0;

    my $g3 = FakeGateway->spawn(app => dirname(__FILE__) . '/apps/no-lifespan.pl');
    (undef, $ans) = $g3->handshake(lifespan => 'on');
    is $ans, { scope => 1, type => 'lifespanStartupFailed', text => "no lifespan here\n" };
    $g3->close_socket;
    is $g3->wait_exit, 0, 'EOF on the socket: exits';

    my $g4 = FakeGateway->spawn;
    my @r = $g4->handshake(lifespan => 'off');
    is scalar(@r), 1;
    my $id4 = $g4->open_http(path => '/scope');
    my $s = JSON::PP->new->decode($g4->until_end($id4)->[1]{body});
    is $s->{state_greeting}, undef, 'no lifespan, empty state';
    $g4->send({ scope => 0, type => 'shutdown' });
    is $g4->wait_exit, 0;
};

subtest 'a malformed frame: logged, exit 1' => sub {
    my $g5 = FakeGateway->spawn;
    $g5->handshake(lifespan => 'off');
    $g5->send_raw(pack('V2', 0, 3) . pack('V2', 0, 2) . pack('Q<v x6', 1, 999));
    is $g5->wait_exit, 1;
    like $g5->stderr_text, qr/protocol error: pagi codec: unknown union tag 999/;
};

done_testing;
