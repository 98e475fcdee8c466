#!/usr/bin/perl
# The worker's CPU for streamed responses with and without the shared body
# ring (docs/protocol.md 3c): t/lib/FakeGateway.pm spawns
# bin/pagi-worker-perl on bench/stream.pl (1 MiB as 64 events of 16 KiB),
# gives it a ring file in /dev/shm, returns credit in 64 KiB steps and
# releases the ring every S/8 bytes, as the gateway does. Prints the worker
# process's user+system CPU per response (its startup included, so use
# enough responses).
#   perl -Isdk/perl/lib sdk/perl/bench/ring.pl [RING_BYTES (0: none)] [RESPONSES]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../t/lib";
use FakeGateway;
use File::Temp qw(tempfile);
use POSIX ();

my ($S, $N) = (shift // 2 * 1024 * 1024, shift // 2000);
my ($fh) = tempfile(DIR => (-d '/dev/shm' ? '/dev/shm' : undef), UNLINK => 1);
truncate($fh, $S || 4096) or die "truncate: $!";
my $g = FakeGateway->spawn(app => "$FindBin::RealBin/stream.pl", env => { PAGI_BODY_RING_FD => $fh });
$g->handshake(sendWindow => 256 * 1024, bodyRingBytes => $S, lifespan => 'off');
my ($spans, $inline) = (0, 0);
my @t0 = POSIX::times();
for (1 .. $N) {
    my $id = $g->open_http(path => '/', hasBody => 0, more => 0);
    my ($credit, $through, $released) = (0, 0, 0);
    while (my $m = $g->recv) {
        last if $m->{type} eq 'scopeEnd';
        next unless $m->{type} eq 'httpResponseBody';
        my $n = length $m->{body};
        if (my $len = $m->{ringLength}) { $spans++; $n = $len; $through = $m->{ringPosition} + $len }
        elsif ($n) { $inline++ }
        if (($credit += $n) >= 65536) { $g->send({ scope => $id, type => 'credit', bytes => $credit }); $credit = 0 }
        if ($S && $through - $released >= $S / 8) {
            $g->send({ scope => 0, type => 'bodyRingRelease', through => $released = $through });
        }
    }
    $g->send({ scope => 0, type => 'bodyRingRelease', through => $released = $through }) if $through > $released;
    $g->send({ scope => $id, type => 'responseDone' });
}
$g->send({ scope => 0, type => 'shutdown' });
$g->wait_exit;
my @t1 = POSIX::times();
my $tck = POSIX::sysconf(POSIX::_SC_CLK_TCK());
printf "ring %d bytes, %d responses: %d spans, %d inline bodies; worker CPU user %.2f s, sys %.2f s, %.3f ms per response\n",
    $S, $N, $spans, $inline, ($t1[3] - $t0[3]) / $tck, ($t1[4] - $t0[4]) / $tck,
    1000 * ($t1[3] + $t1[4] - $t0[3] - $t0[4]) / $tck / $N;
