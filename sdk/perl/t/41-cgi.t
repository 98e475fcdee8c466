# CGI scripts in the worker, through a fake gateway: the RFC 3875 env, the
# POST body on stdin, output streamed as produced, Status/Location, the
# timeout (504, TERM/KILL) while other requests go on, the script's clean
# signal state, 404/502 cases.
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use lib dirname(__FILE__) . '/lib';
use FakeGateway;
use Frames qw(types body_of header);

my $apps = abs_path(dirname(__FILE__)) . '/apps';
my $g = FakeGateway->spawn(app => "$apps/cgi", args => [ '--cgi-timeout', '0.5', '--cgi-kill-grace', '0.2' ]);
my ($hello) = $g->handshake(sendWindow => 65536, receiveWindow => 65536);
is $hello->{concurrency}, 16, 'CGI runs several scripts at once';

sub no_credit { [ grep { $_->{type} ne 'credit' } @{ $_[0] } ] }
sub finish { $g->send({ scope => $_[0], type => 'responseDone' }) }

subtest 'POST body reaches stdin; CGI/1.1 env' => sub {
    my $id = $g->open_http(method => 'POST', path => '/cgi-bin/echo.cgi/extra/path', rawPath => '/cgi-bin/echo.cgi/extra/path',
        rootPath => '/cgi-bin', queryString => 'q=1',
        headers => [ 'host', 'h.test', 'content-type', 'text/plain', 'content-length', '11', 'x-test', 'yes', 'proxy', 'evil' ],
        body => 'hello', more => 1);
    $g->send({ scope => $id, type => 'httpRequest', body => ' world', more => 0 });
    my $got = no_credit($g->until_end($id));
    is $got->[0]{status}, 200;
    is header($got->[0], 'x-script'), 'echo';
    my $body = body_of($got);
    like $body, qr/^BODY=hello world$/m, 'body delivered across frames';
    like $body, qr/^GATEWAY_INTERFACE=CGI\/1\.1$/m;
    like $body, qr/^REQUEST_METHOD=POST$/m;
    like $body, qr{^SCRIPT_NAME=/cgi-bin/echo\.cgi$}m;
    like $body, qr{^PATH_INFO=/extra/path$}m;
    like $body, qr/^QUERY_STRING=q=1$/m;
    like $body, qr/^CONTENT_LENGTH=11$/m;
    like $body, qr/^CONTENT_TYPE=text\/plain$/m;
    like $body, qr/^HTTP_X_TEST=yes$/m;
    like $body, qr/^REMOTE_ADDR=127\.0\.0\.1$/m;
    like $body, qr{^REQUEST_URI=/cgi-bin/echo\.cgi/extra/path\?q=1$}m;
    unlike $body, qr/HTTP_PROXY/, 'no HTTP_PROXY from the client';
    is $got->[-1]{failed}, 0;
    finish($id);
};

subtest 'output streams as produced' => sub {
    my $id = $g->open_http(method => 'POST', path => '/stream.cgi', headers => [ 'content-length', '3' ], body => '', more => 1);
    my @seen;
    while (1) {
        my $m = $g->recv;
        push @seen, $m unless $m->{type} eq 'credit';
        last if $m->{type} eq 'httpResponseBody';
    }
    is types(\@seen), [qw(httpResponseStart httpResponseBody)];
    is $seen[1]{body}, "first\n", 'first line before the script got its input';
    $g->send({ scope => $id, type => 'httpRequest', body => "go\n", more => 0 });
    my $rest = no_credit($g->until_end($id));
    is body_of($rest), "second:go\n";
    finish($id);
};

subtest 'Status and Location' => sub {
    my $id = $g->open_http(path => '/status.cgi');
    my $got = $g->until_end($id);
    is $got->[0]{status}, 418;
    is body_of($got), "short and stout\n";
    finish($id);
    $id = $g->open_http(path => '/redirect.cgi');
    $got = $g->until_end($id);
    is $got->[0]{status}, 302;
    is header($got->[0], 'location'), 'http://example.test/elsewhere';
    finish($id);
};

subtest 'not found, not runnable, no response' => sub {
    for my $case ([ '/missing.cgi', 404 ], [ '/.hidden.cgi', 404 ], [ '/notexec.cgi', 404 ], [ '/', 404 ],
                  [ '/noheader.cgi', 502 ]) {
        my $id = $g->open_http(path => $case->[0]);
        my $got = $g->until_end($id);
        is $got->[0]{status}, $case->[1], "$case->[0] -> $case->[1]";
        finish($id);
    }
};

subtest 'timeout: 504 and the script killed, while another request is served' => sub {
    my $slow = $g->open_http(path => '/sleep.cgi');
    my $fast = $g->open_http(path => '/status.cgi');
    my (%by, @order);
    while (keys %by < 2 || grep { !$_->{ended} } values %by) {
        my $m = $g->recv;
        next if $m->{type} eq 'credit';
        my $s = $by{ $m->{scope} } //= { msgs => [] };
        push @{ $s->{msgs} }, $m;
        push @order, $m->{scope} if $m->{type} eq 'scopeEnd';
        $s->{ended} = 1 if $m->{type} eq 'scopeEnd';
    }
    is \@order, [ $fast, $slow ], 'the other request finished first';
    is $by{$fast}{msgs}[0]{status}, 418;
    is $by{$slow}{msgs}[0]{status}, 504, 'timed-out script answers 504';
    finish($_) for $fast, $slow;
    like $g->stderr_text, qr{sleep\.cgi: timed out after 0\.5s; killed}, 'logged';
};

subtest 'timeout: a script that ignores SIGTERM is killed after the grace period' => sub {
    my $id = $g->open_http(path => '/stubborn.cgi');
    my $got = $g->until_end($id);
    is $got->[0]{status}, 504, 'timed-out script answers 504';
    finish($id);
    my $err = $g->stderr_text;
    like $err, qr{stubborn\.cgi: SigBlk:\s+0+$}m, 'the script starts with no signal blocked';
    my ($ignored) = $err =~ /stubborn\.cgi: SigIgn:\s+([0-9a-f]+)$/m;
    ok defined $ignored && !(hex($ignored) & (1 << 12)), 'SIGPIPE (13) is not ignored (perl itself ignores SIGFPE)';
    like $err, qr{STUBBORN GOT TERM}, 'SIGTERM came first';
    my ($pid) = $err =~ /STUBBORN PID (\d+)/;
    ok $pid, 'the script said its pid';
    ok !kill(0, $pid), 'SIGKILL ended it before the 504 went out';
    like $err, qr{stubborn\.cgi: timed out after 0\.5s; killed}, 'logged';
};

$g->send({ scope => 0, type => 'shutdown' });
is $g->wait_exit, 0;
done_testing;
