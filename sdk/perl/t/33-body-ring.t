# The worker's half of the shared body ring (docs/protocol.md 3c) in
# process: XS::ring_map's checks, the span rules of Ring->put (positions,
# the skipped tail, inline when the span would reach unreleased bytes,
# releases), and an http scope sending through the XS body path and the
# Perl one with a ring: the same futures, flow control and transport state
# as without, only the bodies from 4 KiB travel as spans. The ring is a
# temp file; its bytes are read back with sysread.
use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use RingFile qw(ring_file ring_read);
use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);
use Future;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::HttpScope;
use PAGI::Gateway::Worker::Wire;

plan skip_all => 'no XS accelerator: the pure path never uses the ring'
    unless PAGI::Gateway::Worker::Codec::implementation() eq 'xs';

subtest 'ring_map' => sub {
    my $fh = ring_file(40000);
    fcntl($fh, F_SETFD, fcntl($fh, F_GETFD, 0) & ~FD_CLOEXEC) or die;
    my $map = \&PAGI::Gateway::Worker::XS::ring_map;
    like eval { $map->(fileno $fh, 40001); 1 } ? '' : $@, qr/has 40000 bytes, the welcome announced 40001/, 'size mismatch';
    like eval { $map->(fileno $fh, 0); 1 } ? '' : $@, qr/no ring announced/, 'size 0';
    like eval { $map->(987654, 40000); 1 } ? '' : $@, qr/fd 987654: /, 'not an open descriptor';
    ok !(fcntl($fh, F_GETFD, 0) & FD_CLOEXEC), 'a refused descriptor is left as it was';
    my $ring = $map->(fileno $fh, 40000);
    isa_ok $ring, 'PAGI::Gateway::Worker::XS::Ring';
    is_deeply [ $ring->size, $ring->write_pos, $ring->release_pos ], [ 40000, 0, 0 ], 'S, W = R = 0';
    ok fcntl($fh, F_GETFD, 0) & FD_CLOEXEC, 'close-on-exec once taken';
};

subtest 'an emptied ring gives back what it held past its first MiB on trim' => sub {
    # tmpfs, like the gateway's memfd: MADV_REMOVE punches holes there.
    plan skip_all => 'no /dev/shm' unless -d '/dev/shm' && -w _;
    my $S = 4 << 20;
    my $fh = ring_file($S, '/dev/shm');
    my $ring = PAGI::Gateway::Worker::XS::ring_map(fileno $fh, $S);
    my $buf = '';
    my $body = 'b' x 65536;
    ok $ring->put(\$buf, 1, $body, 1), "span at $_" for map { $_ * 65536 } 0 .. 23;   # to 1.5 MiB
    is ring_read($fh, (1 << 20) + 100, 4), 'bbbb', 'written past the first MiB';
    ok !$ring->release(23 * 65536), 'a release that leaves a span held: nothing to trim';
    ok !$ring->trim, 'trim while the gateway holds a span: nothing';
    is ring_read($fh, (1 << 20) + 100, 4), 'bbbb', 'kept while the gateway holds a span';
    ok $ring->release(24 * 65536), 'the release that empties it says there is memory to give back';
    is ring_read($fh, (1 << 20) + 100, 4), 'bbbb', 'release alone gives nothing back';
    ok $ring->trim, 'trim of the empty ring';
    is ring_read($fh, (1 << 20) + 100, 4), "\0\0\0\0", 'the pages past the first MiB are gone';
    is ring_read($fh, 100, 4), 'bbbb', 'the first MiB is kept';
    ok !$ring->trim, 'a second trim has nothing left to give';
    # And the next span starts the next turn of the ring, in the kept part.
    ok $ring->put(\$buf, 1, $body, 1), 'next span';
    is $ring->write_pos, $S + 65536, 'it started the next turn';
    ok !$ring->release($S + 65536), 'emptied within the kept MiB: nothing to give back';
};

subtest 'Ring->put: spans' => sub {
    my $S = 40000;
    my $fh = ring_file($S);
    my $ring = PAGI::Gateway::Worker::XS::ring_map(fileno $fh, $S);
    my $buf = 'prefix';
    my $k = 0;
    # Puts a body of $n bytes ('more' alternating); checks the result.
    my $put = sub {
        my ($n, $where, $name) = @_;
        my $body = join('', map { chr(65 + ($k + $_) % 26) } 0 .. 25) x (int($n / 26) + 1);
        $body = substr($body, 0, $n);
        my $more = $k++ % 2;
        my $before = $buf;
        my $took = $ring->put(\$buf, 77, $body, $more);
        if ($where eq 'inline') {
            ok !$took, "$name: not taken";
            is $buf, $before, "$name: nothing appended";
            return;
        }
        ok $took, "$name: taken";
        is substr($buf, 0, length $before), $before, "$name: appended";
        my $frame = substr($buf, length $before);
        is length $frame, 88, "$name: one 88-byte frame";
        my $m = PAGI::Gateway::Worker::Codec::decode($frame);
        is_deeply $m, { scope => 77, type => 'httpResponseBody', more => $more, offset => 0, length => 0,
                        body => '', file => '', ringPosition => $where, ringLength => $n }, "$name: span at $where";
        is PAGI::Gateway::Worker::Codec::encode($m), $frame, "$name: the frame the codec writes for it";
        ok ring_read($fh, $where % $S, $n) eq $body, "$name: bytes in the ring";
        $buf = 'prefix';
    };
    $put->(4095, 'inline', 'under 4 KiB');
    $put->(4096, 0, '4 KiB');
    $put->(30000, 4096, 'to 34096');
    $put->(5904, 34096, 'to the end exactly');
    is $ring->write_pos, 40000, 'W';
    $put->(4096, 'inline', 'R + S reached');
    $ring->release(4096);
    $put->(4096, 40000, 'after a release');
    $put->(1, 'inline', 'small');
    $put->(4097, 'inline', 'one byte too many');
    $ring->release(30000);
    is $ring->release_pos, 30000, 'R';
    $ring->release(2);
    is $ring->release_pos, 30000, 'R never moves back';
    $put->(25904, 44096, 'to R + S exactly');
    $put->(4000, 'inline', 'under 4 KiB');
    $put->(5000, 'inline', 'would reach 75000 > R + S');
    $ring->release(70000);
    $put->(12000, 80000, 'the tail skipped');
    is $ring->write_pos, 92000, 'W after the skip';
    $ring->release(1 << 62);
    is $ring->release_pos, 92000, 'a release past W counts as W';
    $put->($S + 1, 'inline', 'larger than the ring');
    # R == W: a body that fits before W's offset (12000) starts the next
    # turn at once, so light traffic reuses the ring's first pages.
    $put->(8000, 120000, 'nothing held: the next turn at once');
    # Nothing was held in the bytes skipped, so R moved along: the whole
    # ring is room again (before, 92000 .. 120000 counted as held).
    is_deeply [ $ring->write_pos, $ring->release_pos ], [ 128000, 120000 ], 'W moved on, and R with it';
    $put->(30000, 128000, 'the whole ring is room again');
    $put->(4096, 'inline', 'and R + S bounds it as before');
    my $wide = "\x{263a}" x 5000;
    ok !$ring->put(\$buf, 1, $wide, 1), 'a wide-character body is not taken';
    my $up = 'x' x 5000;
    utf8::upgrade($up);
    ok !$ring->put(\$buf, 1, $up, 1), 'nor an upgraded one (the inline encoder handles those)';
    is $buf, 'prefix', 'nothing appended';
};

# Runs the scope script once; returns the trace (frames with ring bodies
# read back, futures, flow state) and how many spans were sent.
sub run_scope {
    my ($S, $script) = @_;
    my $buf = '';
    my ($fh, $ring);
    if ($S) {
        $fh = ring_file($S);
        $ring = PAGI::Gateway::Worker::XS::ring_map(fileno $fh, $S);
    }
    # A Wire without a loop: flush_queued set, so nothing is scheduled.
    my $wire = bless { out => \$buf, flush_queued => 1, ($ring ? (ring => $ring) : ()) }, 'PAGI::Gateway::Worker::Wire';
    my $ctx = {
        send      => sub { PAGI::Gateway::Worker::Codec::encode_into(\$buf, $_[0]) },
        send_body => $wire->body_sender,
        send_raw  => sub { $buf .= $_[0] },
        wire      => $wire,
        log       => sub { },
        finished  => sub { },
        settings  => { sendWindow => 40000, receiveWindow => 100, maxMessageBytes => 1 << 20 },
    };
    my $s = PAGI::Gateway::Worker::HttpScope::_open({ scope => 9 }, $ctx, { type => 'http' });
    my $send;
    PAGI::Gateway::Worker::HttpScope::run($s, sub { $send = $_[2]; Future->new });
    my (@trace, $spans);
    my $t = $s->{scope}{'pagi.transport'};
    $t->on_high_water(sub { push @trace, 'high' });
    $t->on_drain(sub { push @trace, 'drain' });
    my $note = sub {
        my ($what, $f) = @_;
        my @frames = PAGI::Gateway::Worker::Codec::decode_frames(\$buf);
        for my $m (grep { $_->{type} eq 'httpResponseBody' && $_->{ringLength} } @frames) {
            $spans++;
            $m->{body} = ring_read($fh, $m->{ringPosition} % $S, delete $m->{ringLength});
            delete $m->{ringPosition};
        }
        delete @$_{qw(ringPosition ringLength)} for @frames;
        push @trace, [ $what, $f ? ($f->is_done ? 'done' : $f->is_failed ? 'failed' : 'pending') : '-',
            \@frames, $t->buffered_amount, $s->{in_flight} ];
    };
    $script->($send, $s, $note);
    return (\@trace, $spans // 0);
}

subtest 'an http scope: flow control as without the ring' => sub {
    my $script = sub {
        my ($send, $s, $note) = @_;
        $note->('start', $send->({ type => 'http.response.start', status => 200, headers => [] }));
        $note->('16k', $send->({ type => 'http.response.body', body => 'a' x 16384, more => 1 }));
        $note->('100', $send->({ type => 'http.response.body', body => 'b' x 100, more => 1 }));
        $note->('16k, high', $send->({ type => 'http.response.body', body => 'c' x 16384, more => 1 }));
        my $w = $send->({ type => 'http.response.body', body => 'd' x 16384, more => 1 });
        $note->('over the window: waits', $w);
        $s->on_message({ type => 'credit', bytes => 32868 });
        $note->('credited: sent (Perl path)', $w);
        $s->on_message({ type => 'credit', bytes => 16384 });
        $note->('last, 5000', $send->({ type => 'http.response.body', body => 'e' x 5000 }));
    };
    my ($plain, $none) = run_scope(0, $script);
    my ($ringed, $spans) = run_scope(1 << 20, $script);
    is $none, 0, 'no spans without a ring';
    is $spans, 4, 'the four bodies from 4 KiB went through the ring';
    is_deeply $ringed, $plain, 'same bodies, futures, buffered amounts and in_flight';
    is $plain->[-1][4], 5000, 'in flight at the end (the trace is not empty)';
};

done_testing;
