#!/usr/bin/perl
# Per-request codec cost: decode a typical GET `open`, encode the response
# start, body and scopeEnd, decode the responseDone. Prints requests/s.
#   perl -Isdk/perl/lib sdk/perl/bench/codec.pl [SECONDS]
# (the XS accelerator when built; PAGI_WORKER_PURE=1 for the pure-Perl codec)
use strict;
use warnings;
use Time::HiRes qw(time);
use PAGI::Gateway::Worker::Codec;

my $seconds = shift // 2;
my $C = 'PAGI::Gateway::Worker::Codec';
my $open = PAGI::Gateway::Worker::Codec::encode({
    scope => 42, type => 'open', scopeType => 'http', httpVersion => '1.1', method => 'GET',
    scheme => 'http', path => '/', rawPath => '/', queryString => '', rootPath => '',
    headers => ['host', 'localhost:8080', 'user-agent', 'wrk/4.2', 'accept', '*/*'],
    clientHost => '127.0.0.1', clientPort => 54321, serverHost => '127.0.0.1', serverPort => 8080,
    hasBody => 1, body => '', more => 0, extensions => 1,
});
my $done = PAGI::Gateway::Worker::Codec::encode({ scope => 42, type => 'responseDone' });
my $in = $open . $done;
my ($n, $t0) = (0, time);
my $cpu0 = (times)[0] + (times)[1];
my $deadline = $t0 + $seconds;
while (1) {
    for (1 .. 1000) {
        my $buf = $in;
        my @m = PAGI::Gateway::Worker::Codec::decode_frames(\$buf);
        my $out = PAGI::Gateway::Worker::Codec::encode({ scope => 42, type => 'httpResponseStart',
                status => 200, headers => ['content-type', 'text/plain', 'content-length', '13'] })
            . PAGI::Gateway::Worker::Codec::encode({ scope => 42, type => 'httpResponseBody', body => 'Hello, world!', more => 0 })
            . PAGI::Gateway::Worker::Codec::encode({ scope => 42, type => 'scopeEnd' });
    }
    $n += 1000;
    last if time > $deadline;
}
my $el = time - $t0;
my $cpu = (times)[0] + (times)[1] - $cpu0;
printf "codec %s per request (decode open+responseDone, encode start+body+scopeEnd): %.0f req/s of CPU (%.1f us/req; %.0f req/s wall)\n",
    PAGI::Gateway::Worker::Codec::implementation(), $n / $cpu, 1e6 * $cpu / $n, $n / $el;
