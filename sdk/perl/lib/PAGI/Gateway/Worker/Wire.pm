package PAGI::Gateway::Worker::Wire;
# The worker's end of the gateway socket on an IO::Async loop: reads big
# chunks and hands every complete decoded message to on_message; collects the
# frames produced during one loop iteration in an output buffer and writes
# them with one syswrite on the next tick (so a response start, its body and
# the scopeEnd leave in one write).
use strict;
use warnings;
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Async::Handle;
use Scalar::Util ();
use Socket ();
use PAGI::Gateway::Worker::Codec;

# What the worker asks for as the send buffer of its end of the gateway
# socket (SO_SNDBUF; Linux doubles the value and caps it at
# net.core.wmem_max, 208 KiB on a default system). With the kernel's
# default (208 KiB) a streamed 1 MiB response filled the socket about five
# times, each time a block in epoll and a switch to the gateway and back:
# on one core that doubled the worker's CPU per response
# (docs/benchmarks.md, "Perl worker socket send buffers"). The bytes in the
# socket are response bytes already counted against their scopes' send
# windows, so this bounds nothing new; 0 keeps the kernel's default.
our $SEND_BUFFER = 2 * 1024 * 1024;

sub new {
    my ($class, %args) = @_;
    my $self = bless {
        loop       => $args{loop},
        fh         => $args{fh},
        on_message => $args{on_message},
        on_eof     => $args{on_eof},
        on_error   => $args{on_error},
        read_size  => $args{read_size} || 256 * 1024,
        max_frame  => $args{max_frame_bytes},
        in         => '',
        out        => \(my $out = ''),    # frames not handed to the socket yet
        wq         => [],    # [\buffer, bytes written]: buffers the socket took in part
        spare      => undef, # an emptied buffer kept with its memory
        flush_queued => 0,
    }, $class;
    $args{fh}->blocking(0);
    my $sndbuf = $args{send_buffer} // $SEND_BUFFER;
    # Not fatal: a pipe or a non-socket handle (tests) keeps what it has.
    setsockopt($args{fh}, Socket::SOL_SOCKET(), Socket::SO_SNDBUF(), pack('i', $sndbuf)) if $sndbuf > 0;
    my $weak = $self;
    Scalar::Util::weaken($weak);
    $self->{handle} = IO::Async::Handle->new(
        handle => $args{fh},
        on_read_ready  => sub { $weak->_read if $weak },
        on_write_ready => sub { $weak->_flush if $weak },
        want_writeready => 0,
    );
    $self->{flush_cb} = sub { $weak->_flush if $weak };
    $self->{loop}->add($self->{handle});
    return $self;
}

# Queues one message; it is written on the next tick with everything else.
sub send {
    PAGI::Gateway::Worker::Codec::encode_into($_[0]{out}, $_[1]);
    $_[0]->_schedule unless $_[0]{flush_queued};
    return;
}

# The same as closures for the scopes' context: send($msg), and
# send_body($scope_id, $body, $more) for plain response body chunks.
sub sender {
    my ($self) = @_;
    return sub {
        PAGI::Gateway::Worker::Codec::encode_into($self->{out}, $_[0]);
        $self->_schedule unless $self->{flush_queued};
        return;
    };
}

# With the shared body ring (`ring`, set by the worker on the welcome; XS
# only) a body of 4 KiB or more goes into the ring when it fits there.
sub body_sender {
    my ($self) = @_;
    return sub {
        my $ring = $self->{ring};
        PAGI::Gateway::Worker::Codec::encode_body_into($self->{out}, @_)
            unless $ring && length($_[1]) >= 4096 && $ring->put($self->{out}, @_);
        $self->_schedule unless $self->{flush_queued};
        return;
    };
}

# send_raw($frame): an already encoded frame (FastFrames).
sub raw_sender {
    my ($self) = @_;
    return sub {
        ${ $self->{out} } .= $_[0];
        $self->_schedule unless $self->{flush_queued};
        return;
    };
}

sub _schedule {
    my ($self) = @_;
    return if $self->{flush_queued};
    $self->{flush_queued} = 1;
    $self->{loop}->later($self->{flush_cb});
}

sub pending_bytes {
    my $n = length ${ $_[0]{out} };
    $n += length(${ $_->[0] }) - $_->[1] for @{ $_[0]{wq} };
    return $n;
}

# Calls $cb once everything queued so far has been written.
sub when_flushed {
    my ($self, $cb) = @_;
    return $cb->() if $self->pending_bytes == 0 || $self->{closed};
    push @{ $self->{flush_waiters} }, $cb;
    $self->_schedule;
}

# Writes now instead of on the next tick (what it cannot write waits for
# write-readiness as usual).
sub flush_now { $_[0]->_flush }

# Output buffers are never cut or moved: a buffer the socket took only part
# of goes, as it is, to the write queue `wq` and new frames go to another
# buffer (the spare, emptied with its memory kept, so appending does not
# grow a fresh one). Cutting the written front off a buffer moves the rest
# in memory: with a streamed response that copied up to a send window per
# partial write.
sub _flush {
    my ($self) = @_;
    $self->{flush_queued} = 0;
    return if $self->{closed};
    my $fh = $self->{fh};
    my $wq = $self->{wq};
    while (@$wq) {
        my $e = $wq->[0];
        my $b = $e->[0];
        my $n = syswrite($fh, $$b, length($$b) - $e->[1], $e->[1]);
        if (!defined $n) {
            next if $! == EINTR;
            return $self->{handle}->want_writeready(1) if $! == EAGAIN || $! == EWOULDBLOCK;
            return $self->_fail("write to gateway failed: $!");
        }
        next if ($e->[1] += $n) < length $$b;
        shift @$wq;
        $$b = '';    # keeps its memory
        $self->{spare} //= $b;
    }
    my $out = $self->{out};
    my $pos = 0;
    while ((my $left = length($$out) - $pos) > 0) {
        my $n = syswrite($fh, $$out, $left, $pos);
        if (!defined $n) {
            next if $! == EINTR;
            if ($! == EAGAIN || $! == EWOULDBLOCK) {
                push @$wq, [ $out, $pos ];
                $self->{out} = delete($self->{spare}) // \(my $fresh = '');
                $self->{handle}->want_writeready(1);
                return;
            }
            return $self->_fail("write to gateway failed: $!");
        }
        $pos += $n;
    }
    # All written: keep the buffer's memory for the next batch.
    $$out = '';
    $self->{handle}->want_writeready(0) if $self->{handle}->want_writeready;
    if (my $w = delete $self->{flush_waiters}) { $_->() for @$w }
}

sub _read {
    my ($self) = @_;
    my $n = sysread($self->{fh}, $self->{in}, $self->{read_size}, length $self->{in});
    if (!defined $n) {
        return if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
        return $self->_fail("read from gateway failed: $!");
    }
    if ($n == 0) {
        $self->close;
        return $self->{on_eof}->();
    }
    my @msgs = eval { PAGI::Gateway::Worker::Codec::decode_frames(\$self->{in}, $self->{max_frame}) };
    my $err = $@;
    merge_bodies(\@msgs) if @msgs > 1;
    # One queue, shifted in order: a handler that runs the loop re-entrantly
    # (a blocking PSGI app waiting for its body) reads more messages, and
    # those must still be handled after the ones decoded here.
    push @{ $self->{inq} //= [] }, @msgs;
    $self->deliver_queued;
    # Messages before a malformed frame are still delivered, in order.
    $self->_fail("protocol error: $err") if $err && !$self->{closed};
}

# Request body chunks of one scope that arrived together become one chunk
# (the spec's `more` lets a server cut a body anywhere): the app then awaits
# once for them instead of once per gateway frame. An httpRequest is
# appended to the open or httpRequest of its scope with `more` set that came
# before it in the same read, when no other message of that scope came in
# between (the gateway interleaves the frames of many scopes; the order
# within each scope is kept). Only one read's messages are merged, so
# nothing waits for a later chunk.
sub merge_bodies {
    my ($msgs) = @_;
    # Most reads carry no body chunk (GETs): one cheap scan, then out.
    return unless grep { $_->{type} eq 'httpRequest' } @$msgs;
    my %open;    # scope id -> the message that takes its next chunk
    my $out = 0;
    for my $m (@$msgs) {
        my ($t, $id) = ($m->{type}, $m->{scope});
        if ($t eq 'httpRequest') {
            if (my $prev = $open{$id}) {
                $prev->{body} .= $m->{body};
                delete $open{$id} unless $prev->{more} = $m->{more};
                next;
            }
            $open{$id} = $m if $m->{more};
        }
        elsif ($t eq 'open' && $m->{more} && $m->{hasBody} && $m->{scopeType} eq 'http') { $open{$id} = $m }
        elsif (%open) { delete $open{$id} }
        $msgs->[ $out++ ] = $m;
    }
    $#$msgs = $out - 1;
    return;
}

# Handles the messages decoded but not delivered yet. Also called by a
# handler that blocks re-entrantly (Worker::wait_for): messages that arrived
# in the same read as the one it is handling would otherwise wait for it.
sub deliver_queued {
    my ($self) = @_;
    my $q = $self->{inq} or return;
    while (@$q) {
        last if $self->{closed};
        $self->{on_message}->(shift @$q);
    }
}

sub _fail {
    my ($self, $why) = @_;
    $self->close;
    $self->{on_error}->($why);
}

sub close {
    my ($self) = @_;
    return if $self->{closed};
    $self->{closed} = 1;
    $self->{loop}->remove($self->{handle}) if $self->{handle}->loop;
    if (my $w = delete $self->{flush_waiters}) { $_->() for @$w }
}

1;
