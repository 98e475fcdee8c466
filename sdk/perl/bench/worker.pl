#!/usr/bin/perl
# Whole-worker throughput without the gateway: spawns bin/pagi-worker-perl on
# bench/hello.pl, keeps DEPTH GET scopes open over the socketpair, and counts
# completed scopes (scopeEnd) per second. The driver's own codec work runs in
# this process, on the other core.
#   perl -Isdk/perl/lib sdk/perl/bench/worker.pl [SECONDS] [DEPTH]
# BENCH_SCOPES=N: stop after exactly N scopes instead of SECONDS;
# BENCH_WRAP='valgrind --tool=callgrind ...': run the worker under that
# command (instructions per scope of the whole worker, the wire and the loop
# included: the difference of two BENCH_SCOPES runs).
# BENCH_APP=stream: bench/stream.pl (1 MiB as 64 events of 16 KiB) with a
# 256 KiB send window; the driver credits body bytes back in 64 KiB steps
# as they arrive (as the gateway does once they reached the client).
use strict;
use warnings;
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);
use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);
use FindBin;
use Time::HiRes qw(time);
use PAGI::Gateway::Worker::Codec;

my ($seconds, $depth) = (shift // 3, shift // 32);
my $root = "$FindBin::RealBin/..";
my $app = $ENV{BENCH_APP} // 'hello';
die "BENCH_APP: hello or stream\n" unless $app =~ /\A(?:hello|stream)\z/;
my $window = $app eq 'stream' ? 262144 : 65536;
socketpair(my $gw, my $wk, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die $!;
fcntl($wk, F_SETFD, fcntl($wk, F_GETFD, 0) & ~FD_CLOEXEC) or die $!;
my $pid = fork // die;
if (!$pid) {
    close $gw;
    $ENV{PAGI_WORKER_FD} = fileno $wk;
    exec split(' ', $ENV{BENCH_WRAP} // ''), $^X, ($ENV{BENCH_PROFILE} ? ('-d:NYTProf') : ()), "-I$root/lib", "$root/bin/pagi-worker-perl", "$root/bench/$app.pl";
    die $!;
}
close $wk;
my $in = '';
my @queue;
sub next_msg {
    while (!@queue) {
        my $n = sysread($gw, $in, 1 << 20, length $in) or die "worker gone";
        push @queue, PAGI::Gateway::Worker::Codec::decode_frames(\$in);
    }
    shift @queue;
}
sub put { my $b = join '', map { PAGI::Gateway::Worker::Codec::encode($_) } @_; syswrite($gw, $b) == length $b or die }
next_msg();    # hello
put({ scope => 0, type => 'welcome', protocolVersion => 1, workerId => 1, sendWindow => $window, receiveWindow => 65536,
      heartbeatIntervalMs => 1000, lifespan => 'off', maxMessageBytes => 1 << 24 });
my $open_tmpl = { type => 'open', scopeType => 'http', httpVersion => '1.1', method => 'GET', scheme => 'http',
    path => '/', rawPath => '/', headers => [ 'host', 'localhost:8080', 'user-agent', 'wrk/4.2', 'accept', '*/*' ],
    clientHost => '127.0.0.1', clientPort => 50000, serverHost => '127.0.0.1', serverPort => 8080,
    hasBody => 1, body => '', more => 0 };
# Pre-encode opens: the driver's cost must not be the bottleneck.
my $id = 1;
my $open_frame = sub { PAGI::Gateway::Worker::Codec::encode({ %$open_tmpl, scope => $_[0] }) };
my $done_frame = sub { PAGI::Gateway::Worker::Codec::encode({ scope => $_[0], type => 'responseDone' }) };
syswrite($gw, join '', map { $open_frame->($id++) } 1 .. $depth);
my ($count, $t0) = (0, time);
my $scopes = $ENV{BENCH_SCOPES};
my $end = $t0 + $seconds;
my %uncredited;
while (1) {
    my $m = next_msg();
    if ($m->{type} eq 'httpResponseBody') {
        my $n = $uncredited{ $m->{scope} } += length $m->{body};
        if ($n >= 65536) {
            put({ scope => $m->{scope}, type => 'credit', bytes => $n });
            $uncredited{ $m->{scope} } = 0;
        }
        next;
    }
    next unless $m->{type} eq 'scopeEnd';
    delete $uncredited{ $m->{scope} };
    $count++;
    my $out = $done_frame->($m->{scope});
    # With BENCH_SCOPES, no more opens than that in total.
    $out .= $open_frame->($id++) unless $scopes && $id > $scopes;
    syswrite($gw, $out);
    last if $scopes ? $count >= $scopes : ($count % 256 == 0) && time > $end;
}
my $el = time - $t0;
printf "worker: %d scopes in %.2fs = %.0f req/s (depth %d)\n", $count, $el, $count / $el, $depth;
put({ scope => 0, type => 'shutdown' });
1 while sysread($gw, my $junk, 65536);
waitpid $pid, 0;
my ($u, $sy, $cu, $cs) = times;
printf "worker CPU %.2fs (%.0f%% of wall, %.1f us/scope); driver CPU %.2fs\n",
    $cu + $cs, 100 * ($cu + $cs) / $el, 1e6 * ($cu + $cs) / $count, $u + $sy;
