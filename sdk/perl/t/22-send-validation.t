# $send validation: every rule fails the send at once with a clear message;
# response order rules; extra fields ignored; no-op after disconnect.
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use ScopeHarness;

sub fails_like {
    my ($h, $ev, $re, $name) = @_;
    my $f = $h->send($ev);
    ok $f->is_failed, "$name: send fails" or return;
    like(($f->failure)[0], $re, "$name: message");
}

my $h = ScopeHarness->new;
fails_like $h, 'nope', qr/expects an event hash reference/, 'not a hash';
fails_like $h, {}, qr/without a type/, 'missing type';
fails_like $h, { type => 'http.response.nope' }, qr/unsupported event type 'http.response.nope'/, 'unknown type';
fails_like $h, { type => 'http.response.start' }, qr/status is required/, 'missing status';
fails_like $h, { type => 'http.response.start', status => '200 OK' }, qr/status must be an integer/, 'status string';
fails_like $h, { type => 'http.response.start', status => 2.5 }, qr/status must be an integer/, 'status float';
fails_like $h, { type => 'http.response.start', status => 99 }, qr/outside 200..599/, 'status range';
fails_like $h, { type => 'http.response.start', status => 200, headers => {} }, qr/headers must be an array/, 'headers hash';
fails_like $h, { type => 'http.response.start', status => 200, headers => [ ['a'] ] }, qr/\[name, value\]/, 'header arity';
fails_like $h, { type => 'http.response.start', status => 200, headers => [ [ 'x-a', "v\r\nx: y" ] ] },
    qr/value contains CR, LF, NUL/, 'CRLF in value';
fails_like $h, { type => 'http.response.start', status => 200, headers => [ [ 'x-a', "v\0" ] ] }, qr/control character/, 'NUL in value';
fails_like $h, { type => 'http.response.start', status => 200, headers => [ [ 'x-a', "v\x01" ] ] }, qr/control character/, 'CTL in value';
fails_like $h, { type => 'http.response.start', status => 200, headers => [ [ "x-a\n", 'v' ] ] }, qr/not a valid token/, 'LF in name';
fails_like $h, { type => 'http.response.start', status => 200, headers => [ [ "x\x7fa", 'v' ] ] }, qr/not a valid token/, 'DEL in name';
fails_like $h, { type => 'http.response.start', status => 200, headers => [ [ 'x a', 'v' ] ] }, qr/not a valid token/, 'space in name';
fails_like $h, { type => 'http.response.start', status => 200, headers => [ [ 'x-a', "\x{263a}" ] ] }, qr/wide characters/, 'wide value';
fails_like $h, { type => 'http.response.start', status => 200, headers => [ [ 'x-a', undef ] ] }, qr/value must be a defined/, 'undef value';
fails_like $h, { type => 'http.response.body', body => 'x' }, qr/before http.response.start/, 'body before start';
fails_like $h, { type => 'http.fullflush' }, qr/needs the 'fullflush' extension/, 'fullflush not advertised';
is $h->take, [], 'nothing reached the wire';

ok !$h->send({ type => 'http.response.start', status => 200, headers => [ [ 'x-tab', "a\tb" ] ], extra => 'ignored' })->is_failed,
    'valid start with an extra field and a tab in a value';
is $h->take, [ { scope => 5, type => 'httpResponseStart', status => 200, trailers => 0, headers => [ 'x-tab', "a\tb" ] } ];
fails_like $h, { type => 'http.response.start', status => 200 }, qr/sent twice/, 'second start';
fails_like $h, { type => 'http.response.body', body => "\x{263a}" }, qr/wide characters/, 'wide body';
fails_like $h, { type => 'http.response.body', body => 'a', file => '/etc/hostname' }, qr/mutually exclusive/, 'body+file';
fails_like $h, { type => 'http.response.body', file => '/nonexistent/file' }, qr/cannot open file/, 'unopenable file';
fails_like $h, { type => 'http.response.body', file => __FILE__, offset => -1 }, qr/offset must be a non-negative/, 'negative offset';
fails_like $h, { type => 'http.response.body', fh => 'notafh' }, qr/fh must be an open filehandle/, 'bad fh';
fails_like $h, { type => 'http.response.trailers', headers => [] }, qr/without trailers => 1/, 'trailers not announced';
ok !$h->send({ type => 'http.response.body', body => 'ab', more => 1 })->is_failed, 'body chunk';
ok !$h->send({ type => 'http.response.body', body => 'c' })->is_failed, 'final body (more defaults to 0)';
is $h->take, [ { scope => 5, type => 'httpResponseBody', body => 'ab', more => 1 },
               { scope => 5, type => 'httpResponseBody', body => 'c', more => 0 } ];
fails_like $h, { type => 'http.response.body', body => 'd' }, qr/after the response completed/, 'body after the end';
ok $h->conn->response_complete, 'response_complete after the final body';

subtest 'file body' => sub {
    my $h = ScopeHarness->new;
    $h->send({ type => 'http.response.start', status => 200 });
    ok !$h->send({ type => 'http.response.body', file => __FILE__, offset => 1, length => 2 })->is_failed;
    my $m = $h->take->[1];
    is $m, { scope => 5, type => 'httpResponseBody', file => __FILE__ =~ m{^/} ? __FILE__ : match(qr{^/.*22-send-validation\.t$}),
             offset => 1, length => 2, more => 0 };
    ok $h->conn->response_complete;
};

subtest 'trailers' => sub {
    my $h = ScopeHarness->new;
    $h->send({ type => 'http.response.start', status => 200, trailers => 1 });
    fails_like $h, { type => 'http.response.trailers', headers => [] }, qr/before the final body/, 'trailers before body end';
    $h->send({ type => 'http.response.body', body => 'x' });
    ok !$h->conn->response_complete, 'not complete until the trailers';
    ok !$h->send({ type => 'http.response.trailers', headers => [ [ 'x-sum', '1' ] ] })->is_failed;
    ok $h->conn->response_complete;
    is $h->types, [qw(httpResponseStart httpResponseBody httpResponseTrailers)];
};

subtest 'extensions when advertised' => sub {
    my $h = ScopeHarness->new(open => { extensions => 1 | 8 });
    is $h->scope->{extensions}, { fullflush => {}, 'http.response.early_hint' => {} };
    ok !$h->send({ type => 'http.response.early_hint', headers => [ [ 'link', '</a.css>; rel=preload' ] ] })->is_failed;
    $h->send({ type => 'http.response.start', status => 200 });
    ok !$h->send({ type => 'http.fullflush' })->is_failed;
    is $h->types, [qw(httpResponseEarlyHint httpResponseStart httpFullflush)];
};

subtest 'no-op after disconnect' => sub {
    my $h = ScopeHarness->new;
    $h->send({ type => 'http.response.start', status => 200 });
    $h->gateway(type => 'httpDisconnect', reason => 'client_closed');
    $h->take;
    my $f = $h->send({ type => 'http.response.body', body => 'late' });
    ok $f->is_done, 'send resolves';
    $f = $h->send({ type => 'bogus' });
    ok $f->is_done, 'even an invalid event is a no-op';
    is $h->take, [], 'nothing sent';
};

done_testing;
