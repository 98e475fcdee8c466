use strict;
use warnings;
use Test::More;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::OpenDecoder;
use PAGI::Gateway::Worker::ScopeBuilder;

# OpenDecoder must give the same $scope as the generic decoder followed by
# ScopeBuilder::build, and the same fields the worker reads. A scope key
# added to one of the two builders and not the other fails here.
ok(PAGI::Gateway::Worker::OpenDecoder::available(), 'the open decoder compiled from the codec source');
my $enc = \&PAGI::Gateway::Worker::Codec::encode;
my $decoders = PAGI::Gateway::Worker::OpenDecoder::decoders();
my %state = (db => 'handle', n => 1);

sub both {
    my ($frame) = @_;
    my ($generic, $fast, $gerr, $ferr);
    {
        my $buf = $frame;
        $generic = eval { [ PAGI::Gateway::Worker::Codec::decode_frames(\$buf) ] } or $gerr = $@;
    }
    {
        my $buf = $frame;
        $fast = eval { [ PAGI::Gateway::Worker::Codec::decode_frames(\$buf, 0, $decoders) ] } or $ferr = $@;
    }
    return ($generic, $fast, $gerr, $ferr);
}

sub compare {
    my ($open, $name) = @_;
    my ($generic, $fast, $gerr, $ferr) = both($enc->($open));
    return fail("$name: decode died: " . ($gerr // $ferr)) unless $generic && $fast;
    my ($g, $f) = ($generic->[0], $fast->[0]);
    is($f->{$_} // '', $g->{$_} // '', "$name: $_") for qw(scope type scopeType hasBody body more expectContinue);
    my $scope = delete $f->{'pagi.scope'};
    if ($g->{scopeType} eq 'lifespan') {
        ok(!$scope, "$name: no scope for lifespan");
        return;
    }
    $scope->{state} = { %state };
    is_deeply($scope, PAGI::Gateway::Worker::ScopeBuilder::build($g, \%state), "$name: same \$scope");
}

my %base = (scope => 3, type => 'open', scopeType => 'http', httpVersion => '1.1', method => 'GET',
            scheme => 'http', path => '/', rawPath => '/', headers => [ 'host', 'x' ], clientHost => '127.0.0.1',
            clientPort => 5555, serverHost => '127.0.0.1', serverPort => 8080, hasBody => 1, body => '', more => 0);
my @cases = (
    [ 'plain GET', {} ],
    [ 'empty everything', { map { $_ => '' } qw(httpVersion method scheme path rawPath clientHost serverHost) } ],
    [ 'utf-8 path, raw path empty', { path => "/caf\xc3\xa9", rawPath => '', rootPath => "/r\xc3\xa9" } ],
    [ 'query and root path', { queryString => 'a=1&b=%20', rootPath => '/app', path => '/app/x', rawPath => '/app/x' } ],
    [ 'headers', { headers => [ map { ("h$_", "v$_" x $_) } 1 .. 20 ] } ],
    [ 'odd header list', { headers => [ 'a', 'b', 'c' ] } ],
    [ 'empty header values', { headers => [ 'a', '', 'b', '' ] } ],
    [ 'no client', { clientHost => '', clientPort => 0 } ],
    [ 'unix server', { serverHost => '/run/x.sock', serverIsUnix => 1, serverPort => 0 } ],
    [ 'websocket', { scopeType => 'websocket', scheme => '', method => '', subprotocols => [ 'chat', 'v2' ] } ],
    [ 'websocket with method', { scopeType => 'websocket', scheme => 'wss', method => 'GET' } ],
    [ 'sse', { scopeType => 'sse', method => 'POST', hasBody => 1, body => 'x' x 100, more => 1 } ],
    [ 'lifespan', { scopeType => 'lifespan' } ],
    [ 'body, more, 100-continue', { method => 'POST', body => "b\0dy", more => 1, expectContinue => 1 } ],
    [ 'request id', { requestId => 'abc123' } ],
    [ 'route params', { routeParams => [ 'id', '42', 'name', "\xc3\xa9" ], requestId => '' } ],
    [ 'odd route params', { routeParams => [ 'id' ] } ],
    [ 'extensions', { extensions => 1 | 2 | 8 } ],
    [ 'tls', { scheme => 'https', extensions => 4 | 1, tls => { tlsVersion => 0x0304, cipherSuite => 0x1301,
        hasClientCert => 1, serverCert => "PEM\n", clientCertChain => [ 'a', 'b' ], clientCertName => 'CN=x',
        clientCertError => '' } } ],
    [ 'tls bit without tls', { extensions => 4 } ],
    [ 'http/2', { httpVersion => '2', scheme => 'https' } ],
    [ 'big scope id', { scope => 2**50 + 7 } ],
);
compare({ %base, %{ $_->[1] } }, $_->[0]) for @cases;

# Damaged frames: both decoders fail with the same message or give the same result.
srand(12);
my @frames = map { $enc->({ %base, %{ $_->[1] } }) } @cases;
my ($same, $n) = (0, 0);
for my $i (1 .. 3000) {
    my $frame = $frames[ $i % @frames ];
    my $pos = 8 + int(rand(length($frame) - 8));
    substr($frame, $pos, 1, chr(int rand 256));
    my ($generic, $fast, $gerr, $ferr) = both($frame);
    $n++;
    if (!$generic || !$fast) { $same++ if !$generic && !$fast && $gerr eq $ferr; next }
    my ($g, $f) = ($generic->[0] // {}, $fast->[0] // {});
    if (($g->{type} // '') ne 'open') { $same++ if ($f->{type} // '') eq ($g->{type} // ''); next }
    my $scope = delete $f->{'pagi.scope'};
    if ($g->{scopeType} eq 'lifespan') { $same++ unless $scope; next }
    next unless $scope;
    $scope->{state} = { %state };
    $same++ if eq_deeply_quiet($scope, PAGI::Gateway::Worker::ScopeBuilder::build($g, \%state))
        && !grep { ($f->{$_} // '') ne ($g->{$_} // '') } qw(scope scopeType hasBody body more expectContinue);
}
is($same, $n, "damaged frames: the same outcome from both decoders ($n frames)");

sub eq_deeply_quiet {
    my ($x, $y) = @_;
    return Test::More::eq_array([$x], [$y]);
}

done_testing;
