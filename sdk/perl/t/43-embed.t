# Embedding: the worker added to a loop the test owns, next to the test's own
# timer; the gateway end of the socketpair is driven on the same loop. The
# app waits for a future that only the caller's timer resolves, so the
# response proves both run on one loop. No signal handlers are installed.
use strict;
use warnings;
use Test2::V0;
use IO::Async::Loop;
use IO::Async::Stream;
use IO::Async::Timer::Countdown;
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);
use Future::AsyncAwait;
use PAGI::Gateway::Worker;
use PAGI::Gateway::Worker::Codec;

my $loop = IO::Async::Loop->new;
socketpair(my $gw, my $wk, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";

my $ticked = $loop->new_future;
my $timer = IO::Async::Timer::Countdown->new(delay => 0.01, on_expire => sub { $ticked->done('tick') });
$loop->add($timer);

my $app = async sub {
    my ($scope, $receive, $send) = @_;
    die "unsupported\n" if $scope->{type} ne 'http';
    my $tick = await $ticked;
    await $send->({ type => 'http.response.start', status => 200, headers => [] });
    await $send->({ type => 'http.response.body', body => "embedded $tick" });
};

local $SIG{TERM} = 'DEFAULT';
my $worker = PAGI::Gateway::Worker->new(app => $app, fd => fileno($wk), concurrency => 4);
$loop->add($worker);

# The fake gateway on the same loop.
my @inbox;
my $waiting;
my $gstream = IO::Async::Stream->new(handle => $gw, on_read => sub {
    my ($s, $buf) = @_;
    push @inbox, PAGI::Gateway::Worker::Codec::decode_frames($buf);
    $waiting->done if $waiting && @inbox && !$waiting->is_ready;
    return 0;
});
$loop->add($gstream);
sub next_msg {
    return Future->done(shift @inbox) if @inbox;
    $waiting = $loop->new_future;
    return $waiting->then(sub { Future->done(shift @inbox) });
}
sub gsend { $gstream->write(PAGI::Gateway::Worker::Codec::encode($_)) for @_ }

my $started = $worker->start;
my $hello = next_msg()->get;
is $hello->{type}, 'hello';
is $hello->{concurrency}, 4;
ok !$started->is_ready, 'start waits for the welcome';
gsend({ scope => 0, type => 'welcome', protocolVersion => 1, workerId => 1, sendWindow => 65536,
        receiveWindow => 65536, heartbeatIntervalMs => 0, lifespan => 'off', maxMessageBytes => 1 << 20 });
ref_is $started->get, $worker, 'start resolves after the welcome';
is $SIG{TERM}, 'DEFAULT', 'no signal handler installed when embedded';

$timer->start;
gsend({ scope => 7, type => 'open', scopeType => 'http', httpVersion => '1.1', method => 'GET', scheme => 'http',
        path => '/', rawPath => '/', headers => [], hasBody => 1, body => '', more => 0 });
my @got;
push @got, next_msg()->get until @got && $got[-1]{type} eq 'scopeEnd';
is [ map { $_->{type} } @got ], [qw(httpResponseStart httpResponseBody scopeEnd)];
is $got[1]{body}, 'embedded tick', "the app saw the caller's timer";
ok $timer->loop, "the caller's timer is still on the loop";

gsend({ scope => 0, type => 'shutdown' });
is $worker->finished->get, 0, 'shutdown resolves finished with exit code 0';
ok $loop, 'the loop is still usable';
$loop->remove($worker);
done_testing;
