# Codec: round trips, cross-checks against the capnp CLI in both directions,
# stream framing, and clean errors on garbage.
use strict;
use warnings;
use Test2::V0;
use File::Temp qw(tempfile);
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use PAGI::Gateway::Worker::Codec;

my $C = 'PAGI::Gateway::Worker::Codec';
my $encode = \&PAGI::Gateway::Worker::Codec::encode;
my $decode = \&PAGI::Gateway::Worker::Codec::decode;
my $schema = abs_path(dirname(__FILE__) . '/../../../protocol/pagi.capnp');

my @samples = (
    { scope => 0, type => 'hello', protocolVersion => 1, pid => 4242, concurrency => 100, scopeTypes => 7,
      sdkName => 'pagi-worker-perl', sdkVersion => '0.01', pool => 'default', app => 'app.pl' },
    { scope => 7, type => 'httpResponseStart', status => 404, trailers => 1,
      headers => [ 'content-type', 'text/plain', 'x-empty', '', 'set-cookie', 'a=1' ] },
    { scope => 7, type => 'httpResponseBody', body => "\0\x01bin\xff", more => 1, offset => 0, length => 0, file => '' },
    { scope => 7, type => 'httpResponseBody', body => '', more => 0, offset => 10, length => -1, file => '/etc/hostname' },
    { scope => 7, type => 'scopeEnd', failed => 1, message => "died: caf\x{e9}" },
    { scope => 1099511627779, type => 'credit', bytes => 4294967295 },
    { scope => 0, type => 'heartbeat', seq => 9007199254740993 },
    { scope => 9, type => 'lifespanStartupFailed', text => 'no database' },
    { scope => 9, type => 'lifespanShutdownFailed', text => "already UTF-8 caf\xc3\xa9" },
    { scope => 9, type => 'lifespanStartupComplete' },
    { scope => 5, type => 'open', scopeType => 'websocket', clientPort => 1, serverPort => 65535, hasBody => 0,
      more => 1, expectContinue => 1, extensions => 15, serverIsUnix => 1, httpVersion => '2', method => '',
      scheme => 'wss', path => "/caf\xc3\xa9", rawPath => '/caf%C3%A9', queryString => 'a=1&b', rootPath => '/r',
      headers => [ 'host', 'x' ], clientHost => '::1', serverHost => '/tmp/s.sock', subprotocols => [ 'chat', 'v2' ],
      body => '', tls => { tlsVersion => 0x0304, cipherSuite => 0x1301, hasClientCert => 1, serverCert => 'PEM',
      clientCertChain => [ 'leaf', 'ca' ], clientCertName => 'CN=x', clientCertError => '' },
      routeParams => [ 'id', '42' ], requestId => 'req-1', peerHost => '10.0.0.9', peerPort => 4711 },
    { scope => 3, type => 'welcome', protocolVersion => 1, workerId => 2, sendWindow => 65536, receiveWindow => 32768,
      heartbeatIntervalMs => 5000, lifespan => 'on', maxMessageBytes => 1 << 24, pool => 'p' },
);

subtest 'round trips' => sub {
    for my $m (@samples) {
        my $got = $decode->($encode->($m));
        my %want = %$m;
        # Text fields come back as UTF-8 bytes.
        utf8::encode($want{message}) if defined $want{message};
        # ... and bytes that already are UTF-8 stay as they are.
        is $got, hash { field $_ => $want{$_} for keys %want; etc() }, "$m->{type} round trip";
    }
};

subtest 'defaults and null pointers' => sub {
    my $m = $decode->($encode->({ scope => 1, type => 'open' }));
    is $m->{scopeType}, 'http';
    is $m->{headers}, [];
    is $m->{path}, '';
    is $m->{tls}, undef;
    is $m->{hasBody}, 0;
    my $s = $decode->($encode->({ scope => 1, type => 'httpRequest' }));
    is $s, { scope => 1, type => 'httpRequest', body => '', more => 0 };
    my $v = $decode->($encode->({ scope => 0, type => 'shutdown' }));
    is $v, { scope => 0, type => 'shutdown' };
};

subtest 'encode rejects bad input' => sub {
    like dies { $encode->({ scope => 1, type => 'nope' }) }, qr/unknown message type/;
    like dies { $encode->({ scope => 1, type => 'httpResponseBody', body => "\x{263a}" }) }, qr/wide character in body/;
    like dies { $encode->({ scope => 1, type => 'httpResponseStart', headers => 'x' }) }, qr/array reference/;
    like dies { $encode->({ scope => 1, type => 'welcome', lifespan => 'sometimes' }) }, qr/unknown value/;
};

subtest 'encode_into and the body fast path' => sub {
    # encode_into appends; encode_body_into writes what encode does for a plain body.
    for my $body ('', 'a', 'abcdefgh', 'x' x 16385, "caf\x{e9}") {
        for my $more (0, 1) {
            my $m = { scope => 77, type => 'httpResponseBody', body => $body, more => $more };
            my $buf = 'prefix';
            PAGI::Gateway::Worker::Codec::encode_body_into(\$buf, 77, $body, $more);
            is $buf, 'prefix' . $encode->($m), 'encode_body_into = encode (' . length($body) . " bytes, more $more)";
            my $into = '';
            PAGI::Gateway::Worker::Codec::encode_into(\$into, $m);
            is $into, $encode->($m), 'encode_into = encode';
            my $back = $decode->($into);
            my $want = $body;
            utf8::downgrade($want);
            is [ @$back{qw(body more)} ], [ $want, $more ], 'round trip';
        }
    }
    like dies { my $b = ''; PAGI::Gateway::Worker::Codec::encode_body_into(\$b, 1, "\x{263a}", 0) },
        qr/wide character in body/;
    # The header-list cache gives the same bytes for the same content.
    my $start = { scope => 5, type => 'httpResponseStart', status => 200, headers => [ 'a', '1', 'b', '' ] };
    is $encode->($start), $encode->({ %$start, headers => [ 'a', 1, 'b', '' ] }), 'cached header list';
    is $decode->($encode->($start))->{headers}, [ 'a', '1', 'b', '' ];
    is $decode->($encode->({ %$start, headers => [ 'a', '1', 'b', 'c' ] }))->{headers}, [ 'a', '1', 'b', 'c' ],
        'different content, different entry';
};

subtest 'stream framing' => sub {
    my @frames = map { $encode->($_) } @samples[1 .. 4];
    my $all = join '', @frames;
    # Fed one byte at a time, every message comes out once, in order.
    my ($buf, @got) = ('');
    for my $byte (split //, $all) {
        $buf .= $byte;
        push @got, PAGI::Gateway::Worker::Codec::decode_frames(\$buf);
    }
    is [ map { $_->{type} } @got ], [ map { $_->{type} } @samples[1 .. 4] ];
    is $buf, '', 'buffer consumed';
    # A two-segment frame (segment 1 unused) is accepted.
    my $f = $frames[0];
    my ($n, $size) = unpack 'V2', $f;
    my $two = pack('V4', 1, $size, 1, 0) . substr($f, 8) . ("\0" x 8);
    is $decode->($two)->{status}, 404, 'multi-segment framing read';
};

subtest 'garbage gives clear errors' => sub {
    my $f = $encode->($samples[1]);
    my @bad = (
        [ pack('V2', 0, 1) . pack('V2', 0xfffffff0, 0xffff), qr/struct out of bounds/ ],
        [ pack('V2', 0, 1) . pack('V2', 2, 0), qr/far pointer/ ],
        [ pack('V2', 0, 1) . pack('V2', 1, 0), qr/expected a struct pointer/ ],
        [ pack('V2', 0, 3) . pack('V2', 0, 2) . pack('Q<v x6', 1, 999), qr/unknown union tag 999/ ],
        [ pack('V2', 1000, 0), qr/too many segments/ ],
        [ pack('V2', 0, 0), qr/empty segment/ ],
    );
    for my $b (@bad) {
        my $buf = $b->[0];
        like dies { PAGI::Gateway::Worker::Codec::decode_frames(\$buf) }, $b->[1];
    }
    # Corrupt the headers list pointer (element size 6 -> 7) and a text length.
    my $corrupt = $f;
    my $idx = index($corrupt, pack('V', (6 << 3) | 6));
    substr($corrupt, $idx, 4, pack('V', (6 << 3) | 7));
    like dies { $decode->($corrupt) }, qr/expected a pointer list/;
    my $huge = pack('V2', 0, 1 << 22) . ("\0" x 8);
    like dies { PAGI::Gateway::Worker::Codec::decode_frames(\$huge, 1024) }, qr/over the limit/;
    # Random bytes never crash the process: they decode or die with our prefix.
    srand 1;
    for (1 .. 300) {
        my $junk = $f;
        substr($junk, 8 + int(rand(length($junk) - 8)), 1, chr int rand 256) for 1 .. 3;
        my $ok = eval { $decode->($junk); 1 };
        ok($ok || $@ =~ /^pagi codec: /, 'fuzzed frame decodes or fails cleanly') or diag $@;
    }
};

my $have_capnp = !system('capnp --version >/dev/null 2>&1');
subtest 'cross-check with the capnp CLI' => sub {
    skip_all 'capnp not installed' unless $have_capnp;
    # capnp text -> capnp encode -> our decoder.
    my @from_cli = (
        [ '(scope = 5, httpRequest = (body = "abc", more = true))',
          { scope => 5, type => 'httpRequest', body => 'abc', more => 1 } ],
        [ '(scope = 9, open = (type = http, method = "POST", path = "/p", headers = ["host", "h", "x-a", ""], hasBody = true, body = "xy", more = true, expectContinue = true, clientHost = "10.0.0.1", clientPort = 5555, extensions = 1))',
          { scope => 9, type => 'open', scopeType => 'http', method => 'POST', path => '/p',
            headers => [ 'host', 'h', 'x-a', '' ], hasBody => 1, body => 'xy', more => 1, expectContinue => 1,
            clientHost => '10.0.0.1', clientPort => 5555, extensions => 1 } ],
        [ '(scope = 0, welcome = (protocolVersion = 1, workerId = 7, sendWindow = 1000, receiveWindow = 2000, heartbeatIntervalMs = 3000, lifespan = off, maxMessageBytes = 4000, pool = "web"))',
          { scope => 0, type => 'welcome', protocolVersion => 1, workerId => 7, sendWindow => 1000,
            receiveWindow => 2000, heartbeatIntervalMs => 3000, lifespan => 'off', maxMessageBytes => 4000, pool => 'web' } ],
        [ '(scope = 4, httpDisconnect = (reason = "client_closed"))', { scope => 4, type => 'httpDisconnect', reason => 'client_closed' } ],
        [ '(scope = 0, welcome = (protocolVersion = 1, bodyRingBytes = 2097152))',
          { scope => 0, type => 'welcome', protocolVersion => 1, bodyRingBytes => 2097152 } ],
        [ '(scope = 0, bodyRingRelease = (through = 18446744073709551615))',
          { scope => 0, type => 'bodyRingRelease', through => 18446744073709551615 } ],
        [ '(scope = 4, responseDone = void)', { scope => 4, type => 'responseDone' } ],
        [ '(scope = 0, heartbeat = (seq = 18446744073709551615))', { scope => 0, type => 'heartbeat', seq => 18446744073709551615 } ],
        [ '(scope = 1, lifespanStartup = void)', { scope => 1, type => 'lifespanStartup' } ],
        [ '(scope = 0, drain = (timeoutMs = 30000))', { scope => 0, type => 'drain', timeoutMs => 30000 } ],
    );
    for my $case (@from_cli) {
        my ($text, $want) = @$case;
        my $bin = capnp('encode', $text);
        my $got = $decode->($bin);
        is $got, hash { field $_ => $want->{$_} for keys %$want; etc() }, "capnp encode -> decode: $want->{type}";
    }
    # Our encoder -> capnp decode --short.
    my @to_cli = (
        [ { scope => 5, type => 'httpResponseStart', status => 200, headers => [ 'content-type', 'text/plain' ] },
          '(scope = 5, httpResponseStart = (status = 200, trailers = false, headers = ["content-type", "text/plain"]))' ],
        [ { scope => 5, type => 'httpResponseBody', body => 'hello', more => 1 },
          '(scope = 5, httpResponseBody = (more = true, offset = 0, length = 0, body = "hello", ringPosition = 0, ringLength = 0))' ],
        [ { scope => 5, type => 'httpResponseBody', file => '/tmp/x', offset => 3, length => -1 },
          '(scope = 5, httpResponseBody = (more = false, offset = 3, length = -1, file = "/tmp/x", ringPosition = 0, ringLength = 0))' ],
        [ { scope => 5, type => 'httpResponseBody', more => 1, ringPosition => 2**40 + 3, ringLength => 16384 },
          '(scope = 5, httpResponseBody = (more = true, offset = 0, length = 0, ringPosition = 1099511627779, ringLength = 16384))' ],
        [ { scope => 6, type => 'credit', bytes => 4096 }, '(scope = 6, credit = (bytes = 4096))' ],
        [ { scope => 6, type => 'scopeEnd', failed => 1, message => 'boom' }, '(scope = 6, scopeEnd = (failed = true, message = "boom"))' ],
        [ { scope => 0, type => 'hello', protocolVersion => 1, pid => 99, concurrency => 100, scopeTypes => 7,
            sdkName => 'pagi-worker-perl', sdkVersion => '0.01', app => 'a.pl' },
          '(scope = 0, hello = (protocolVersion = 1, pid = 99, concurrency = 100, scopeTypes = 7, sdkName = "pagi-worker-perl", sdkVersion = "0.01", app = "a.pl", skipResponseDone = false))' ],
        [ { scope => 1, type => 'lifespanUnsupported', text => 'nope' }, '(scope = 1, lifespanUnsupported = "nope")' ],
        [ { scope => 1, type => 'lifespanShutdownComplete' }, '(scope = 1, lifespanShutdownComplete = void)' ],
        [ { scope => 8, type => 'httpResponseTrailers', headers => [ 'x-checksum', 'abc' ] },
          '(scope = 8, httpResponseTrailers = (headers = ["x-checksum", "abc"]))' ],
    );
    for my $case (@to_cli) {
        my ($msg, $want) = @$case;
        is capnp('decode', $encode->($msg)), $want, "encode -> capnp decode: $msg->{type}";
    }
};

sub capnp {
    my ($mode, $input) = @_;
    my ($in, $inpath) = tempfile(UNLINK => 1);
    binmode $in;
    print {$in} $input;
    close $in;
    my @cmd = $mode eq 'encode'
        ? ('capnp', 'encode', $schema, 'Envelope')
        : ('capnp', 'decode', '--short', $schema, 'Envelope');
    open my $out, '-|', "@cmd < $inpath" or die "capnp: $!";
    binmode $out;
    local $/;
    my $res = <$out>;
    close $out or die "capnp $mode failed on: $input\n";
    $res =~ s/\n\z// if $mode eq 'decode';
    return $res;
}

done_testing;
