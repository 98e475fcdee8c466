use strict;
use warnings;
use Test::More;
use Future;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::FastFrames;
use PAGI::Gateway::Worker::HttpScope;
use PAGI::Gateway::Worker::ScopeBuilder;

my $F = 'PAGI::Gateway::Worker::FastFrames';
my $enc = \&PAGI::Gateway::Worker::Codec::encode;
ok($F->can('available')->(), 'the layouts FastFrames assumes match the schema');

# The hand-built frames are byte for byte what the codec makes.
for my $list ([], [ [ 'content-type', 'text/plain' ], [ 'content-length', 5 ] ], [ [ 'x-a', 'b' x 13 ], [ 'x-b', '' ] ],
              [ [ 'x-latin', "caf\xe9" ] ]) {
    for my $trailers (0, 1) {
        for my $status (200, 404, 599) {
            my $h = PAGI::Gateway::Worker::FastFrames::headers($list);
            ok($h, 'valid list accepted') or next;
            is(unpack('H*', PAGI::Gateway::Worker::FastFrames::start_frame(77, $status, $trailers, $h)),
               unpack('H*', $enc->({ scope => 77, type => 'httpResponseStart', status => $status, trailers => $trailers,
                                     headers => [ map { @$_ } @$list ] })),
               "start frame: status $status, trailers $trailers, " . @$list . ' headers');
        }
    }
}
for my $id (1, 2**40 + 3) {
    is(unpack('H*', PAGI::Gateway::Worker::FastFrames::scope_end_ok_frame($id)),
       unpack('H*', $enc->({ scope => $id, type => 'scopeEnd', failed => 0, message => '' })), "scopeEnd frame, id $id");
}

# Invalid lists are left to the validator (undef), even when a valid list
# with the same joined text is in the cache.
ok(PAGI::Gateway::Worker::FastFrames::headers([ [ 'a', 'b' ], [ 'c', 'd' ] ]), 'valid two-header list');
for my $bad ([ [ 'a', "b\nc\nd" ] ], [ [ 'a', "b\nc" ], [ 'd', '' ] ], [ [ 'a b', 'c' ] ], [ [ 'a', "x\r" ] ],
             [ [ 'a', undef ] ], [ [ 'a' ] ], [ 'a', 'b' ], [ [ 'a', [] ] ], [ [ 'a', "\x{263a}" ] ], 'x') {
    ok(!defined PAGI::Gateway::Worker::FastFrames::headers($bad), 'rejects a bad header list');
}

# An http scope sends the same messages with and without the fast paths.
sub run_scope {
    my ($fast, $app) = @_;
    my @sent;
    my $ctx = {
        send     => sub { push @sent, PAGI::Gateway::Worker::Codec::decode($enc->({ %{ $_[0] } })) },
        log      => sub { },
        finished => sub { },
        settings => { sendWindow => 100, receiveWindow => 100, maxMessageBytes => 1 << 20 },
    };
    if ($fast) {
        $ctx->{send_raw} = sub { push @sent, PAGI::Gateway::Worker::Codec::decode($_[0]) };
        $ctx->{send_body} = sub {
            my $out = '';
            PAGI::Gateway::Worker::Codec::encode_body_into(\$out, @_);
            push @sent, PAGI::Gateway::Worker::Codec::decode($out);
        };
    }
    my %open = (scope => 9, type => 'open', scopeType => 'http', httpVersion => '1.1', method => 'GET',
                scheme => 'http', path => '/', rawPath => '/', queryString => '', rootPath => '', headers => [],
                clientHost => '', clientPort => 0, serverHost => '', serverPort => 0, serverIsUnix => 0,
                subprotocols => [], routeParams => [], requestId => '', extensions => 0, hasBody => 1, body => '',
                more => 0, expectContinue => 0);
    my $s = PAGI::Gateway::Worker::HttpScope->new(open => \%open, ctx => $ctx,
        scope => PAGI::Gateway::Worker::ScopeBuilder::build(\%open, {}));
    my @results;
    $s->run(sub {
        my (undef, undef, $send) = @_;
        for my $ev (@$app) {
            my $f = $send->($ev);
            push @results, $f->is_ready ? ($f->is_failed ? 'failed: ' . ($f->failure)[0] : 'done') : 'pending';
        }
        return Future->done;
    });
    return (\@sent, \@results);
}

my @apps = (
    [ { type => 'http.response.start', status => 200, headers => [ [ 'content-type', 'text/plain' ] ] },
      { type => 'http.response.body', body => 'hello' } ],
    [ { type => 'http.response.start', status => '204' } ],
    [ { type => 'http.response.start', status => 200, trailers => 1, headers => [] },
      { type => 'http.response.body', body => 'x', more => 1 }, { type => 'http.response.body', body => 'y' },
      { type => 'http.response.trailers', headers => [ [ 'x-t', '1' ] ] } ],
    [ { type => 'http.response.start', status => 200 }, { type => 'http.response.start', status => 200 } ],
    [ { type => 'http.response.start', status => 700 } ],
    [ { type => 'http.response.start', status => '0200', headers => [ [ 'a', 'b' ] ] } ],
    [ { type => 'http.response.start', status => 200, headers => [ [ 'a', "b\nc\nd" ] ] } ],
    [ { type => 'http.response.start', status => 200, headers => [ [ 'a', "\x{e9}t\x{e9}" ] ] },
      { type => 'http.response.body', body => 'z' x 150 } ],
    [ { type => 'http.response.body', body => 'early' } ],
    [ ],
    [ { type => 'http.response.start', status => 500 }, { type => 'http.response.body', body => 'a', more => 1 } ],
    # The fast path's status check (a lookup of "200" .. "599") against the validator.
    map({ [ { type => 'http.response.start', status => $_ }, { type => 'http.response.body', body => 'ok' } ] }
        199, 200, 200.0, 599, 600, '200 ', " 200", "200\n", '2e2', '', 'abc', -200),
);
for my $i (0 .. $#apps) {
    my ($slow_sent, $slow_res) = run_scope(0, $apps[$i]);
    my ($fast_sent, $fast_res) = run_scope(1, $apps[$i]);
    is_deeply($fast_sent, $slow_sent, "app $i: same frames with the fast paths");
    is_deeply($fast_res, $slow_res, "app $i: same \$send results");
}
# An LF inside a header value fails the $send (it would shift the pairs).
my (undef, $res) = run_scope(1, $apps[6]);
like($res->[0], qr/failed: .*header 'a' value contains CR, LF/, 'LF inside a header value fails the send');

done_testing;
