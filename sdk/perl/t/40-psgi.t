# PSGI apps in the worker, through a fake gateway (t/lib/FakeGateway.pm):
# the env, blocking psgi.input reads across body frames, every response
# form, the streaming writer reaching the gateway before the app goes on,
# psgix.logger, cleanup handlers and harakiri.
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use lib dirname(__FILE__) . '/lib';
use FakeGateway;
use Frames qw(types body_of header);
use JSON::PP ();

my $apps = abs_path(dirname(__FILE__)) . '/apps';
my $g = FakeGateway->spawn(app => "$apps/psgi/app.psgi");
my ($hello, $ls) = $g->handshake(sendWindow => 65536, receiveWindow => 8);
is $hello->{concurrency}, 1, 'a PSGI app asks for one scope at a time';
is $ls, { scope => 1, type => 'lifespanStartupComplete' }, 'lifespan startup answered for the PSGI app';

sub finish { my ($id) = @_; $g->send({ scope => $id, type => 'responseDone' }) }

subtest 'env' => sub {
    my $id = $g->open_http(method => 'POST', path => '/app/env', rawPath => '/app/env', rootPath => '/app',
        queryString => 'x=1', headers => [ 'host', 'h.test', 'content-type', 'text/plain', 'content-length', '0',
                                           'x-dup', 'a', 'x-dup', 'b', 'cookie', 'a=1', 'cookie', 'b=2' ]);
    my $got = $g->until_end($id);
    my $env = JSON::PP->new->decode(body_of($got));
    is $env, hash {
        field REQUEST_METHOD => 'POST';
        field SCRIPT_NAME => '/app';
        field PATH_INFO => '/env';
        field QUERY_STRING => 'x=1';
        field REQUEST_URI => '/app/env?x=1';
        field SERVER_NAME => '127.0.0.1';
        field SERVER_PORT => 8080;
        field SERVER_PROTOCOL => 'HTTP/1.1';
        field REMOTE_ADDR => '127.0.0.1';
        field REMOTE_PORT => 40000;
        field CONTENT_TYPE => 'text/plain';
        field CONTENT_LENGTH => '0';
        field HTTP_HOST => 'h.test';
        field HTTP_X_DUP => 'a, b';
        field HTTP_COOKIE => 'a=1; b=2';
        field 'psgi.version' => [ 1, 1 ];
        field 'psgi.url_scheme' => 'http';
        field 'psgi.multiprocess' => 1;
        field 'psgi.multithread' => 0;
        field 'psgi.run_once' => 0;
        field 'psgi.nonblocking' => 1;
        field 'psgi.streaming' => 1;
        field 'psgix.input.buffered' => 0;
        field 'psgix.harakiri' => 1;
        field 'psgix.cleanup' => 1;
        field input_can_read => 1;
        field errors_is_stderr => 1;
        field has_psgix_io => 0;    # the client socket is the gateway's
        field logger_is_code => 1;
        etc;
    };
    finish($id);
};

subtest 'psgi.input streams: a blocking read waits for the next body frame' => sub {
    my $id = $g->open_http(method => 'POST', path => '/echo', body => 'abc', more => 1);
    # The app has read 'abc' and blocks for more; a heartbeat is still answered.
    $g->send({ scope => 0, type => 'heartbeat', seq => 5 });
    my $m = $g->recv;
    $m = $g->recv while $m->{type} eq 'credit';
    is $m, { scope => 0, type => 'heartbeat', seq => 5 }, 'the loop runs while the app blocks on psgi.input';
    $g->send({ scope => $id, type => 'httpRequest', body => 'def', more => 1 },
             { scope => $id, type => 'httpRequest', body => 'gh', more => 0 });
    my $got = [ grep { $_->{type} ne 'credit' } @{ $g->until_end($id) } ];
    is types($got), [qw(httpResponseStart httpResponseBody scopeEnd)];
    is body_of($got), 'abcdefgh', 'all body frames in order';
    cmp_ok header($got->[0], 'x-reads'), '>=', 2, 'read returned as frames arrived';
    finish($id);
};

subtest 'streaming writer: the first chunk reaches the gateway before the app writes the second' => sub {
    my $id = $g->open_http(method => 'POST', path => '/stream', body => '', more => 1);
    my @seen;
    while (1) {
        my $m = $g->recv;
        push @seen, $m unless $m->{type} eq 'credit';
        last if $m->{type} eq 'httpResponseBody';
    }
    is types(\@seen), [qw(httpResponseStart httpResponseBody)];
    is $seen[1]{body}, "first\n";
    is $seen[1]{more}, 1;
    # Only now does the app get the body it blocks on.
    $g->send({ scope => $id, type => 'httpRequest', body => 'go', more => 0 });
    my $rest = [ grep { $_->{type} ne 'credit' } @{ $g->until_end($id) } ];
    is body_of($rest), "second:go\n";
    is [ map { $_->{more} // () } grep { $_->{type} eq 'httpResponseBody' } @$rest ], [ 1, 0 ], 'close ends the body';
    finish($id);
};

subtest 'response forms' => sub {
    my %want = (
        '/delayed' => [ 201, 'delayed body' ],
        '/fh'      => [ 200, 'in-memory handle body' ],
        '/object'  => [ 200, "a\nb\n" ],
        '/nope'    => [ 404, 'not found' ],
    );
    for my $path (sort keys %want) {
        my $id = $g->open_http(path => $path);
        my $got = $g->until_end($id);
        is $got->[0]{status}, $want{$path}[0], "$path status";
        is body_of($got), $want{$path}[1], "$path body";
        is $got->[-1]{failed}, 0;
        finish($id);
    }
    my $id = $g->open_http(path => '/file');
    my $got = $g->until_end($id);
    is types($got), [qw(httpResponseStart httpResponseBody scopeEnd)];
    like $got->[1]{file}, qr{/apps/psgi/app\.psgi$}, 'a file on disk goes by path (sendfile)';
    is $got->[1]{offset}, 0;
    is $got->[1]{length}, -s "$apps/psgi/app.psgi";
    finish($id);
};

subtest 'an app that dies gets the 500 backstop' => sub {
    my $id = $g->open_http(path => '/die');
    my $got = $g->until_end($id);
    is $got->[0]{status}, 500;
    is $got->[-1]{failed}, 1;
    like $got->[-1]{message}, qr/deliberate/;
    finish($id);
};

subtest 'cleanup handlers, then harakiri' => sub {
    my $id = $g->open_http(path => '/logger');
    is body_of($g->until_end($id)), 'CODE', 'psgix.logger is a code reference';
    finish($id);
    $id = $g->open_http(path => '/cleanup');
    $g->until_end($id);
    finish($id);
    $id = $g->open_http(path => '/harakiri');
    my $got = $g->until_end($id);
    is body_of($got), 'bye';
    finish($id);
    is $g->wait_exit, 0, 'the worker exits cleanly after psgix.harakiri.commit';
    my $err = $g->stderr_text;
    like $err, qr{CLEANUP RAN /cleanup}, 'cleanup handler ran';
    like $err, qr{^\[warn\] LOGGED one$}m, 'psgix.logger writes the level and message to STDERR';
    like $err, qr{^\[error\] LOGGED two\n  second line$}m, 'a multi-line message stays one entry';
    like $err, qr{^\[info\] LOGGED three$}m, 'an unknown level is logged as info';
    like $err, qr{WARNED: .*write after close ignored}, 'write after close warns';
};

done_testing;
