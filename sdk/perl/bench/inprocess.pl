#!/usr/bin/perl
# The worker's per-request Perl work without sockets or the loop: decode an
# `open` frame, run bench/hello.pl through HttpScope, encode what it sends,
# decode and apply responseDone. Prints requests/s for one core.
#   perl -Isdk/perl/lib sdk/perl/bench/inprocess.pl [SECONDS]
use strict;
use warnings;
use FindBin;
use Time::HiRes qw(time);
use PAGI::Gateway::Worker;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::AppLoader;

my $seconds = shift // 2;
my $app = PAGI::Gateway::Worker::AppLoader::load("$FindBin::RealBin/hello.pl");
my $w = PAGI::Gateway::Worker->new(app => $app, fd => 0);
my $out = '';
$w->{send} = sub { $out .= PAGI::Gateway::Worker::Codec::encode($_[0]) };
$w->{ctx} = { send => $w->{send}, log => sub { print STDERR @_, "\n" },
              finished => sub { delete $w->{scopes}{ $_[0] } }, settings => {} };
$w->_on_message({ scope => 0, type => 'welcome', protocolVersion => 1, workerId => 1, sendWindow => 65536,
                  receiveWindow => 65536, heartbeatIntervalMs => 1000, lifespan => 'off', maxMessageBytes => 1 << 24 });
my %open = (type => 'open', scopeType => 'http', httpVersion => '1.1', method => 'GET', scheme => 'http',
    path => '/', rawPath => '/', headers => [ 'host', 'localhost:8080', 'user-agent', 'wrk/4.2', 'accept', '*/*' ],
    clientHost => '127.0.0.1', clientPort => 50000, serverHost => '127.0.0.1', serverPort => 8080,
    hasBody => 1, body => '', more => 0);
my @frames = map { PAGI::Gateway::Worker::Codec::encode({ %open, scope => $_ })
                 . PAGI::Gateway::Worker::Codec::encode({ scope => $_, type => 'responseDone' }) } 1 .. 1000;
my ($n, $t0) = (0, time);
my $cpu0 = (times)[0] + (times)[1];
while (time < $t0 + $seconds) {
    for my $f (@frames) {
        my $buf = $f;
        $w->_on_message($_) for PAGI::Gateway::Worker::Codec::decode_frames(\$buf);
    }
    $n += @frames;
    $out = '';
}
my $el = time - $t0;
my $cpu = (times)[0] + (times)[1] - $cpu0;
die "scopes leaked\n" if keys %{ $w->{scopes} };
printf "in-process per-request path: %.0f req/s of CPU (%.1f us/req; %.0f req/s wall)\n", $n / $cpu, 1e6 * $cpu / $n, $n / $el;
