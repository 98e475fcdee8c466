#!/usr/bin/perl
# The worker's per-request Perl work without sockets or the loop: decode the
# gateway's frames for one request, run the app through the scope, encode
# what it sends. Prints CPU per request for one core.
#   perl -Isdk/perl/lib sdk/perl/bench/inprocess.pl [SECONDS] [SCENARIO]
# (the XS accelerator when built; PAGI_WORKER_PURE=1 for the pure-Perl codec)
# SCENARIO: hello (GET, 13-byte body; default), echo (64 KiB POST in four
# 16 KiB chunks, echoed in one event), stream (1 MiB as 64 events of 16 KiB,
# 256 KiB send window, credit returned in 64 KiB steps).
use strict;
use warnings;
use FindBin;
use Time::HiRes qw(time);
use Future;
use PAGI::Gateway::Worker;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::AppLoader;
use PAGI::Gateway::Worker::Wire;

my $seconds = shift // 2;
my $scenario = shift // 'hello';
die "unknown scenario $scenario\n" unless $scenario =~ /\A(?:hello|echo|stream)\z/;
# BENCH_NO_MERGE=1: deliver every httpRequest frame as its own event.
# BENCH_WINDOW=BYTES: the send window (default 256 KiB; 2097152 lets stream
# run without credit waits, which Devel::NYTProf cannot profile: a suspended
# async sub panics under it). BENCH_BATCHES=N: run exactly N batches instead
# of SECONDS (for instruction counts under valgrind --tool=callgrind).
my $merge = !$ENV{BENCH_NO_MERGE} && defined &PAGI::Gateway::Worker::Wire::merge_bodies;
my $enc = \&PAGI::Gateway::Worker::Codec::encode;
my $app = PAGI::Gateway::Worker::AppLoader::load("$FindBin::RealBin/$scenario.pl");
my $w = PAGI::Gateway::Worker->new(app => $app, fd => 0);
my $out = '';
$w->{started} = Future->new;
$w->{send} = sub { PAGI::Gateway::Worker::Codec::encode_into(\$out, $_[0]) };    # as Wire::send
$w->{ctx} = { send => $w->{send}, send_body => sub { PAGI::Gateway::Worker::Codec::encode_body_into(\$out, @_) },
              send_raw => sub { $out .= $_[0] },
              # As the Wire for the XS body path: its buffer, a flush queued.
              wire => { out => \$out, flush_queued => 1 },
              log => sub { print STDERR @_, "\n" },
              finished => sub { delete $w->{scopes}{ $_[0] } }, settings => {} };
$w->_on_message({ scope => 0, type => 'welcome', protocolVersion => 1, workerId => 1, sendWindow => $ENV{BENCH_WINDOW} || 262144,
                  receiveWindow => 262144, heartbeatIntervalMs => 1000, lifespan => 'off', maxMessageBytes => 1 << 24 });
my %open = (type => 'open', scopeType => 'http', httpVersion => '1.1', method => 'GET', scheme => 'http',
    path => '/', rawPath => '/', headers => [ 'host', 'localhost:8080', 'user-agent', 'wrk/4.2', 'accept', '*/*' ],
    clientHost => '127.0.0.1', clientPort => 50000, serverHost => '127.0.0.1', serverPort => 8080,
    hasBody => 1, body => '', more => 0);
my $chunk = 'y' x 16384;
sub request_frames {
    my ($id) = @_;
    my $f;
    if ($scenario eq 'echo') {
        $f = $enc->({ %open, scope => $id, method => 'POST', more => 1 });
        $f .= $enc->({ scope => $id, type => 'httpRequest', body => $chunk, more => $_ < 4 ? 1 : 0 }) for 1 .. 4;
    }
    elsif ($scenario eq 'stream') {
        $f = $enc->({ %open, scope => $id });
        $f .= $enc->({ scope => $id, type => 'credit', bytes => 65536 }) for 1 .. 16;
    }
    else { $f = $enc->({ %open, scope => $id }) }
    return $f . $enc->({ scope => $id, type => 'responseDone' });
}
my $batch = $scenario eq 'hello' ? 1000 : 50;
my @frames = map { request_frames($_) } 1 .. $batch;
my ($n, $t0) = (0, time);
my $cpu0 = (times)[0] + (times)[1];
my $bytes_out = 0;
my $batches = $ENV{BENCH_BATCHES};
while ($batches ? $batches-- > 0 : time < $t0 + $seconds) {
    for my $f (@frames) {
        my $buf = $f;
        my @m = PAGI::Gateway::Worker::Codec::decode_frames(\$buf);
        PAGI::Gateway::Worker::Wire::merge_bodies(\@m) if $merge;    # as Wire::_read
        $w->_on_message($_) for @m;
        $bytes_out += length $out;
        $out = '';
    }
    $n += @frames;
}
my $el = time - $t0;
my $cpu = (times)[0] + (times)[1] - $cpu0;
die "scopes leaked\n" if keys %{ $w->{scopes} };
printf "in-process %s (codec %s): %.0f req/s of CPU (%.1f us/req; %.0f req/s wall; %.0f bytes out/req)\n",
    $scenario, PAGI::Gateway::Worker::Codec::implementation(), $n / $cpu, 1e6 * $cpu / $n, $n / $el, $bytes_out / $n;
