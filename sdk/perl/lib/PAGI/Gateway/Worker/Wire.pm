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
use PAGI::Gateway::Worker::Codec;

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
        out        => '',
        out_pos    => 0,     # bytes at the front of out already written
        flush_queued => 0,
    }, $class;
    $args{fh}->blocking(0);
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
    PAGI::Gateway::Worker::Codec::encode_into(\$_[0]{out}, $_[1]);
    $_[0]->_schedule unless $_[0]{flush_queued};
    return;
}

# The same as closures for the scopes' context: send($msg), and
# send_body($scope_id, $body, $more) for plain response body chunks.
sub sender {
    my ($self) = @_;
    return sub {
        PAGI::Gateway::Worker::Codec::encode_into(\$self->{out}, $_[0]);
        $self->_schedule unless $self->{flush_queued};
        return;
    };
}

sub body_sender {
    my ($self) = @_;
    return sub {
        PAGI::Gateway::Worker::Codec::encode_body_into(\$self->{out}, @_);
        $self->_schedule unless $self->{flush_queued};
        return;
    };
}

# send_raw($frame): an already encoded frame (FastFrames).
sub raw_sender {
    my ($self) = @_;
    return sub {
        $self->{out} .= $_[0];
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

sub pending_bytes { length($_[0]{out}) - $_[0]{out_pos} }

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

sub _flush {
    my ($self) = @_;
    $self->{flush_queued} = 0;
    return if $self->{closed};
    # A partial write moves an offset instead of cutting the front off the
    # buffer: a streamed response fills it with hundreds of KiB, and cutting
    # would copy the rest once per write.
    my $pos = $self->{out_pos};
    while ((my $left = length($self->{out}) - $pos) > 0) {
        my $n = syswrite($self->{fh}, $self->{out}, $left, $pos);
        if (!defined $n) {
            next if $! == EINTR;
            if ($! == EAGAIN || $! == EWOULDBLOCK) {
                # Drop the written front once it is the larger part (amortised).
                if ($pos * 2 >= length $self->{out}) { substr($self->{out}, 0, $pos, ''); $pos = 0 }
                $self->{out_pos} = $pos;
                $self->{handle}->want_writeready(1);
                return;
            }
            $self->{out_pos} = $pos;
            return $self->_fail("write to gateway failed: $!");
        }
        $pos += $n;
    }
    # All written: keep the buffer's memory for the next batch.
    $self->{out} = '';
    $self->{out_pos} = 0;
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
    # One queue, shifted in order: a handler that runs the loop re-entrantly
    # (a blocking PSGI app waiting for its body) reads more messages, and
    # those must still be handled after the ones decoded here.
    push @{ $self->{inq} //= [] }, @msgs;
    $self->deliver_queued;
    # Messages before a malformed frame are still delivered, in order.
    $self->_fail("protocol error: $err") if $err && !$self->{closed};
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
