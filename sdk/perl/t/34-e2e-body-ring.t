# The shared body ring end to end (docs/protocol.md 3c): a fake gateway
# spawns bin/pagi-worker-perl on t/apps/ring.pl with a temp file as the
# ring (PAGI_BODY_RING_FD) and checks where each response body arrives:
# as a span whose bytes are in the file at the right place, or inline.
# Synchronisation is by messages only (each step waits for the frames it
# caused; a heartbeat echo proves nothing else is queued).
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use lib dirname(__FILE__) . '/lib';
use FakeGateway;
use RingFile qw(ring_file ring_read);
use JSON::PP ();
use PAGI::Gateway::Worker::Codec;

my $APP = abs_path(dirname(__FILE__) . '/apps/ring.pl');
# The worker runs this tree, so it has the accelerator when this process does.
my $XS = PAGI::Gateway::Worker::Codec::implementation() eq 'xs';

sub body_bytes {    # as in t/apps/ring.pl
    my ($k, $n) = @_;
    my $unit = sprintf '%05d:', $k;
    return substr($unit x (int($n / length $unit) + 1), 0, $n);
}

# A worker with this ring file and welcome; returns the gateway.
sub start {
    my (%opt) = @_;
    my $g = FakeGateway->spawn(app => $APP, env => { %{ $opt{env} || {} }, PAGI_BODY_RING_FD => $opt{fh} });
    $g->handshake(sendWindow => 1 << 20, %{ $opt{welcome} || {} });
    return $g;
}

# Opens /bodies; returns the scope id once the response started.
sub open_bodies {
    my ($g) = @_;
    my $id = $g->open_http(path => '/bodies', method => 'POST', body => '', more => 1);
    my $m = $g->next_for($id, skip_credit => 1);
    die "expected httpResponseStart, got $m->{type}" unless $m->{type} eq 'httpResponseStart';
    return $id;
}

# Asks for bodies of these sizes; returns their frames.
sub ask {
    my ($g, $id, @sizes) = @_;
    $g->send({ scope => $id, type => 'httpRequest', body => join(',', @sizes), more => 1 });
    return [ map { $g->next_for($id, skip_credit => 1) } @sizes ];
}

# Checks frames against [k, size, ring position or 'inline'] each.
sub check_bodies {
    my ($g, $fh, $size, $frames, @want) = @_;
    for my $i (0 .. $#want) {
        my ($k, $n, $where) = @{ $want[$i] };
        my $m = $frames->[$i];
        my $what = "body $k ($n bytes)";
        is $m->{type}, 'httpResponseBody', "$what: a body frame";
        is $m->{more}, 1, "$what: more";
        if ($where eq 'inline') {
            is $m->{ringLength}, 0, "$what: inline";
            ok $m->{body} eq body_bytes($k, $n), "$what: its bytes in the frame";
        }
        else {
            is [ @$m{qw(ringPosition ringLength body)} ], [ $where, $n, '' ], "$what: a span at $where";
            ok ring_read($fh, $where % $size, $n) eq body_bytes($k, $n), "$what: its bytes in the ring";
        }
    }
}

sub finish {
    my ($g, $id) = @_;
    $g->send({ scope => $id, type => 'httpRequest', body => '', more => 0 });
    my $got = $g->until_end($id);
    my @types = map { $_->{type} } grep { $_->{type} ne 'credit' } @$got;
    is \@types, [qw(httpResponseBody scopeEnd)], 'the response ends';
    is [ @{ $got->[-2] }{qw(body more ringLength)} ], [ '', 0, 0 ], 'with an empty inline body';
    $g->send({ scope => $id, type => 'responseDone' });
}

sub env_of {
    my ($g, $fh) = @_;
    my $id = $g->open_http(path => '/env', queryString => 'fd=' . fileno($fh));
    my $got = $g->until_end($id);
    $g->send({ scope => $id, type => 'responseDone' });
    my ($body) = grep { $_->{type} eq 'httpResponseBody' } @$got;
    return JSON::PP->new->decode($body->{body});
}

sub release { $_[0]->send({ scope => 0, type => 'bodyRingRelease', through => $_[1] }) }

subtest 'spans: positions, bytes, fallback, release' => sub {
    skip_all 'no XS accelerator: the pure path never uses the ring' unless $XS;
    my $S = 40000;
    my $fh = ring_file($S);
    my $g = start(fh => $fh, welcome => { bodyRingBytes => $S });
    is env_of($g, $fh), { env => undef, cloexec => 1 },
        'the app sees no PAGI_BODY_RING_FD, and the ring is close-on-exec';
    my $id = open_bodies($g);
    check_bodies($g, $fh, $S, ask($g, $id, 100, 4095, 4096),
        [ 0, 100, 'inline' ], [ 1, 4095, 'inline' ], [ 2, 4096, 0 ]);
    check_bodies($g, $fh, $S, ask($g, $id, 16384, 16384), [ 3, 16384, 4096 ], [ 4, 16384, 20480 ]);
    # W = 36864: the next span would start at 40000 (the tail skipped) and
    # reach 44096 > R + S = 40000: inline, and W stays.
    check_bodies($g, $fh, $S, ask($g, $id, 4096, 16384), [ 5, 4096, 'inline' ], [ 6, 16384, 'inline' ]);
    release($g, 20480);
    # 40000 + 16384 <= 20480 + 40000; then 56384 + 4096 = R + S exactly; then full.
    check_bodies($g, $fh, $S, ask($g, $id, 16384, 4096, 4096),
        [ 7, 16384, 40000 ], [ 8, 4096, 56384 ], [ 9, 4096, 'inline' ]);
    # A release past W (60480) counts as W: the ring does not open up for
    # bytes the worker never wrote. With nothing held, a body that fits
    # before W's offset (20480) starts the next turn (80000) at once, and R
    # moves there with it (nothing is held in the bytes skipped); then
    # 96384 + 16384 fits R + S = 120000, and 8192 more would start at 120000.
    release($g, 2**62);
    check_bodies($g, $fh, $S, ask($g, $id, 16384, 16384, 8192),
        [ 10, 16384, 80000 ], [ 11, 16384, 96384 ], [ 12, 8192, 'inline' ]);
    # An older release does not move R back: 112768 + 4096 <= 80000 + S fits.
    release($g, 100);
    check_bodies($g, $fh, $S, ask($g, $id, 4096), [ 13, 4096, 112768 ]);
    finish($g, $id);
    is $g->settle, [], 'nothing else sent';
    $g->send({ scope => 0, type => 'shutdown' });
    is $g->wait_exit, 0, 'clean exit';
};

subtest 'spans count against the send window' => sub {
    skip_all 'no XS accelerator: the pure path never uses the ring' unless $XS;
    my $S = 1 << 20;
    my $fh = ring_file($S);
    my $g = start(fh => $fh, welcome => { bodyRingBytes => $S, sendWindow => 20000 });
    my $id = open_bodies($g);
    $g->send({ scope => $id, type => 'httpRequest', body => '16384,16384', more => 1 });
    my @first = grep { $_->{type} ne 'credit' } @{ $g->settle };
    check_bodies($g, $fh, $S, \@first, [ 0, 16384, 0 ]);
    is scalar @first, 1, 'the second body waits for credit (16384 in flight, window 20000)';
    $g->send({ scope => $id, type => 'credit', bytes => 16384 });
    # Sent from the credit handler: the Perl body path, through the ring too.
    check_bodies($g, $fh, $S, [ $g->next_for($id, skip_credit => 1) ], [ 1, 16384, 16384 ]);
    finish($g, $id);
};

subtest 'an emptied ring gives its memory back after a quiet second' => sub {
    skip_all 'no XS accelerator: the pure path never uses the ring' unless $XS;
    # tmpfs, like the gateway's memfd: MADV_REMOVE punches holes there.
    skip_all 'no /dev/shm' unless -d '/dev/shm' && -w _;
    my $S = 4 << 20;
    my $fh = ring_file($S, '/dev/shm');
    my $g = start(fh => $fh, welcome => { bodyRingBytes => $S, sendWindow => $S });
    my $id = open_bodies($g);
    my @sizes = (65536) x 24;    # to 1.5 MiB
    check_bodies($g, $fh, $S, ask($g, $id, @sizes), map { [ $_, 65536, $_ * 65536 ] } 0 .. 23);
    my $past = (1 << 20) + 100;
    my ($bytes, $kept) = (ring_read($fh, $past, 4), substr(body_bytes(0, 104), 100));
    release($g, 24 * 65536);
    is $g->settle, [], 'the release is taken';
    is ring_read($fh, $past, 4), $bytes, 'emptied, the memory is not given back at once';
    is ring_read($fh, 100, 4), $kept, 'nor the first MiB';
    # No event says "given back": poll the file, bounded (the delay is 1 s).
    my $deadline = time + 15;
    select(undef, undef, undef, 0.05) until ring_read($fh, $past, 4) eq "\0\0\0\0" || time > $deadline;
    is ring_read($fh, $past, 4), "\0\0\0\0", 'then the pages past the first MiB are gone';
    is ring_read($fh, 100, 4), $kept, 'and the first MiB is kept';
    # The ring works on: the next span starts the next turn.
    check_bodies($g, $fh, $S, ask($g, $id, 65536), [ 24, 65536, $S ]);
    finish($g, $id);
    $g->send({ scope => 0, type => 'shutdown' });
    is $g->wait_exit, 0, 'clean exit';
};

# Each: inline bodies; the variable is gone either way, and the descriptor
# of a ring that was announced but not taken is closed (children would only
# inherit it); without an announced ring it is not the worker's to close.
my $closed = { env => undef, open => 0 };
my @no_ring = (
    [ 'the descriptor is not the announced size', sub { (ring_file(40001), { bodyRingBytes => 40000 }) }, $closed, 1 ],
    [ 'bodyRingBytes 0', sub { (ring_file(40000), { bodyRingBytes => 0 }) }, { env => undef, cloexec => 0 } ],
    [ 'no bodyRingBytes in the welcome', sub { (ring_file(40000), {}) }, { env => undef, cloexec => 0 } ],
    [ 'the pure path', sub { (ring_file(40000), { bodyRingBytes => 40000 }) }, $closed, 0, { PAGI_WORKER_PURE => 1 } ],
);
for my $case (@no_ring) {
    my ($name, $setup, $seen, $logs, $env) = @$case;
    subtest "no ring: $name" => sub {
        my ($fh, $welcome) = $setup->();
        my $g = start(fh => $fh, welcome => $welcome, env => $env);
        is env_of($g, $fh), $seen, 'what the app sees of PAGI_BODY_RING_FD and the descriptor';
        my $id = open_bodies($g);
        check_bodies($g, $fh, 40000, ask($g, $id, 16384, 4096), [ 0, 16384, 'inline' ], [ 1, 4096, 'inline' ]);
        release($g, 1000);    # harmless without a ring
        check_bodies($g, $fh, 40000, ask($g, $id, 16384), [ 2, 16384, 'inline' ]);
        finish($g, $id);
        $g->send({ scope => 0, type => 'shutdown' });
        is $g->wait_exit, 0, 'clean exit';
        if ($logs && $XS) { like $g->stderr_text, qr/body ring not used: fd \d+ has 40001 bytes, the welcome announced 40000/, 'logged' }
        else { unlike $g->stderr_text, qr/body ring/, 'nothing logged' }
    };
}

done_testing;
