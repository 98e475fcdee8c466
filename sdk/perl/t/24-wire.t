# Wire: request body chunks of one read merged into one event, and the
# output side's write queue (partial writes keep every byte, in order).
use strict;
use warnings;
use Test2::V0;
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC SOL_SOCKET SO_SNDBUF SO_RCVBUF);
use IO::Async::Loop;
use PAGI::Gateway::Worker::Wire;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use ScopeHarness;

my $merge = \&PAGI::Gateway::Worker::Wire::merge_bodies;

subtest 'chunks of one scope are merged, others are left alone' => sub {
    my @m = (
        { scope => 1, type => 'open', scopeType => 'http', hasBody => 1, body => '', more => 1 },
        { scope => 1, type => 'httpRequest', body => 'ab', more => 1 },
        { scope => 2, type => 'httpRequest', body => 'x', more => 1 },
        { scope => 2, type => 'httpRequest', body => 'y', more => 1 },
        { scope => 1, type => 'httpRequest', body => 'cd', more => 0 },
        { scope => 2, type => 'credit', bytes => 5 },
        { scope => 2, type => 'httpRequest', body => 'z', more => 0 },
        { scope => 2, type => 'httpRequest', body => 'late', more => 0 },
    );
    $merge->(\@m);
    is \@m, [
        { scope => 1, type => 'open', scopeType => 'http', hasBody => 1, body => 'abcd', more => 0 },
        { scope => 2, type => 'httpRequest', body => 'xy', more => 1 },
        { scope => 2, type => 'credit', bytes => 5 },
        { scope => 2, type => 'httpRequest', body => 'z', more => 0 },
        { scope => 2, type => 'httpRequest', body => 'late', more => 0 },
    ], 'chunks of a body with more coming, across other scopes\' frames; not across another message of the scope; nothing after more => 0';
};

subtest 'a whole body in one read is one event ending the body' => sub {
    my @m = (
        { scope => 7, type => 'open', scopeType => 'http', hasBody => 1, body => '', more => 1 },
        map({ { scope => 7, type => 'httpRequest', body => $_ x 3, more => 1 } } qw(a b c)),
        { scope => 7, type => 'httpRequest', body => 'd', more => 0 },
        { scope => 7, type => 'responseDone' },
    );
    $merge->(\@m);
    is \@m, [
        { scope => 7, type => 'open', scopeType => 'http', hasBody => 1, body => 'aaabbbcccd', more => 0 },
        { scope => 7, type => 'responseDone' },
    ];
    my @ws = ({ scope => 3, type => 'open', scopeType => 'websocket', hasBody => 1, body => '', more => 1 },
              { scope => 3, type => 'httpRequest', body => 'q', more => 0 });
    $merge->(\@ws);
    is scalar @ws, 2, 'only http opens take body chunks';
};

subtest 'partial writes: every byte arrives, in order' => sub {
    my $loop = IO::Async::Loop->new;
    socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die $!;
    setsockopt($a, SOL_SOCKET, SO_SNDBUF, 4096);
    setsockopt($b, SOL_SOCKET, SO_RCVBUF, 4096);
    my @errors;
    # send_buffer 0: keep the small buffer set above.
    my $wire = PAGI::Gateway::Worker::Wire->new(loop => $loop, fh => $a, on_message => sub { },
        on_eof => sub { }, on_error => sub { push @errors, @_ }, send_buffer => 0);
    my $raw = $wire->raw_sender;
    my $want = '';
    my $piece = 0;
    my $queue = sub {
        for (1 .. 20) {
            my $s = sprintf('%06d', $piece++) x 1000;
            $want .= $s;
            $raw->($s);
        }
    };
    $queue->();
    $wire->flush_now;
    ok $wire->pending_bytes > 0, 'the socket took only part';
    $queue->();    # more frames while the first buffer waits
    my $got = '';
    $b->blocking(0);
    my $flushed = 0;
    $wire->when_flushed(sub { $flushed = 1 });
    my $turns = 0;
    while (length $got < length $want && $turns++ < 100_000) {
        while (sysread($b, my $buf, 65536)) { $got .= $buf }
        $loop->loop_once(0.01);
        $queue->() if $turns == 3;
    }
    is length $got, length $want, 'all bytes';
    ok $got eq $want, 'in order';
    is $wire->pending_bytes, 0;
    ok $flushed, 'when_flushed fired';
    is \@errors, [];
    $wire->close;
};

subtest 'the send buffer of the worker end' => sub {
    my $loop = IO::Async::Loop->new;
    my $sndbuf = sub { unpack 'i', getsockopt($_[0], SOL_SOCKET, SO_SNDBUF) };
    socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die $!;
    my $w = PAGI::Gateway::Worker::Wire->new(loop => $loop, fh => $a, on_message => sub { },
        on_eof => sub { }, on_error => sub { }, send_buffer => 48 * 1024);
    is $sndbuf->($a), 96 * 1024, 'asked for (Linux doubles it)';
    $w->close;
    socketpair(my $c, my $d, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die $!;
    my $before = $sndbuf->($c);
    $w = PAGI::Gateway::Worker::Wire->new(loop => $loop, fh => $c, on_message => sub { },
        on_eof => sub { }, on_error => sub { });
    my $cap = do { open my $fh, '<', '/proc/sys/net/core/wmem_max'; my $v = <$fh>; $v ? 0 + $v : undef };
    my $want = 2 * $PAGI::Gateway::Worker::Wire::SEND_BUFFER;
    $want = 2 * $cap if defined $cap && $cap < $PAGI::Gateway::Worker::Wire::SEND_BUFFER;
    is $sndbuf->($c), $want, "the default, capped by wmem_max (was $before)";
    $w->close;
};

subtest 'an open with no body bytes yet and more to come queues no empty event' => sub {
    my $h = ScopeHarness->new(open => { method => 'POST', body => '', more => 1 });
    my $f = $h->receive;
    ok !$f->is_ready, 'the first receive waits for bytes';
    $h->gateway(type => 'httpRequest', body => 'abc', more => 0);
    is $f->get, { type => 'http.request', body => 'abc', more => 0 }, 'the decoded chunk is the event';
    my $g = ScopeHarness->new(open => { method => 'POST', body => '', more => 0 });
    is $g->receive->get, { type => 'http.request', body => '', more => 0 }, 'an empty body still gives one event';
};

done_testing;
