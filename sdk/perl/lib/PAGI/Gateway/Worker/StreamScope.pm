package PAGI::Gateway::Worker::StreamScope;
# What websocket and sse scopes share (WebSocketScope.pm, SseScope.pm): the
# receive queue with request credit, the send window with credit from the
# gateway behind pagi.transport, and the end of the scope (the subclass's
# closing frames, then scopeEnd once nothing waits for credit).
#
# A scope type this worker does not know also lands here: the app runs and
# receives nothing, and each $send fails with a clear message.
#
# Subclasses implement:
#   _send($ev)            -> Future (validate, then _queue/_emit)
#   _translate($m)        -> (event, credit bytes) for a gateway message, or ()
#   _app_returned($failed) closing frames when the app ends (optional)
use strict;
use warnings;
use Future;
use Scalar::Util qw(blessed);
use PAGI::Gateway::Worker::Transport;

# ctx as for HttpScope (send, settings, finished, log); scope: the $scope.
sub new {
    my ($class, %args) = @_;
    my $ctx = $args{ctx};
    my $w = $ctx->{settings};
    # An idle WebSocket holds one of these: only what differs between scopes
    # is stored (window sizes come from the welcome settings), and counters
    # start absent (0): each hash key costs ~50 bytes per open connection.
    #   uncredited  received bytes the app took, credit not yet sent
    #   in_flight   sent bytes not yet credited back
    #   gone        the gateway said the connection ended
    my $self = bless {
        id         => $args{open}{scope},
        ctx        => $ctx,
        scope      => $args{scope},
        waiters    => [],    # receive futures waiting for an event
        # rq       [event, credit bytes] not yet taken by the app
        # pending  [wire, future, bytes] waiting for credit
        # (both made when first needed: an idle connection has neither)
    }, $class;
    $self->{transport} = $self->{scope}{'pagi.transport'} =
        PAGI::Gateway::Worker::Transport->new(high_water_mark => $w->{sendWindow})
        unless $class eq __PACKAGE__;
    return $self;
}

sub run {
    my ($self, $app) = @_;
    my $weak = $self;
    Scalar::Util::weaken($weak);
    my $receive = sub { $weak ? $weak->_receive : Future->new };
    my $send = sub { $weak ? $weak->_send($_[0]) : Future->done };
    my $f = eval { $app->($self->{scope}, $receive, $send) };
    if (!defined $f && $@) { $f = Future->fail($@) }
    elsif (!(blessed $f && $f->isa('Future'))) { $f = Future->done }
    $self->{app_future} = $f;
    _when_app_ready($self, $f);
    return;
}

# The app futures in flight, by address, and their scopes: one shared
# callback instead of a closure per scope (a closure is ~470 bytes that an
# idle WebSocket would hold). The entry goes when the app finishes.
my %OWNER;

sub _when_app_ready {
    my ($self, $f) = @_;
    $OWNER{ Scalar::Util::refaddr($f) } = $self;
    $f->on_ready(\&_app_ready);
}

sub _app_ready {
    my $self = delete $OWNER{ Scalar::Util::refaddr($_[0]) } or return;
    $self->_app_finished($_[0]);
}

sub _window   { $_[0]{ctx}{settings}{sendWindow} }
sub _rwindow  { $_[0]{ctx}{settings}{receiveWindow} }
# Largest payload per frame: the gateway rejects frames over maxMessageBytes.
sub _max_payload { ($_[0]{ctx}{settings}{maxMessageBytes} || 16 * 1024 * 1024) - 4096 }

# --- defaults for an unknown scope type ---------------------------------------

sub _translate { return }

sub _send {
    my ($self, $ev) = @_;
    my $t = ref $ev eq 'HASH' ? $ev->{type} // '' : '';
    return Future->fail("pagi-worker-perl: '$t' is not supported for $self->{scope}{type} scopes by this worker\n");
}

sub _app_returned { }

# --- messages from the gateway ---------------------------------------------------

sub on_message {
    my ($self, $m) = @_;
    return $self->_credit($m->{bytes}) if $m->{type} eq 'credit';
    my ($ev, $bytes) = $self->_translate($m) or return;
    $self->_deliver($ev, $bytes // 0);
    return;
}

sub _deliver {
    my ($self, $ev, $bytes) = @_;
    while (my $f = shift @{ $self->{waiters} }) {
        next if $f->is_ready;    # the app cancelled that receive
        $self->_account($bytes);
        $f->done($ev);
        return;
    }
    push @{ $self->{rq} }, [ $ev, $bytes ];
}

# The connection ended: sends become no-ops, waiting ones resolve.
sub _gone {
    my ($self) = @_;
    return 0 if $self->{gone};
    $self->{gone} = 1;
    my $pending = delete $self->{pending};
    $_->[1]->done for @{ $pending || [] };
    $self->_send_scope_end if $self->{end_msg};
    return 1;
}

# --- $receive ---------------------------------------------------------------------

sub _receive {
    my ($self) = @_;
    if ($self->{rq} && (my $e = shift @{ $self->{rq} })) {
        $self->_account($e->[1]);
        return Future->done($e->[0]);
    }
    if (my $ev = $self->_after_end_event) { return Future->done({%$ev}) }
    if ($self->{uncredited}) {
        # The app waits with nothing queued: never let batching stall it.
        $self->_send_credit;
    }
    my $f = Future->new;
    push @{ $self->{waiters} }, $f;
    return $f;
}

# What $receive returns once nothing more can come: the end event a
# subclass set (the disconnect, or the one _end_with made).
sub _after_end_event { $_[0]{end_event} }

# The scope ended from this side (sse stream closed, websocket denied): no
# disconnect will come from the gateway, so a waiting or later $receive gets
# $ev.
sub _end_with {
    my ($self, $ev) = @_;
    $self->{end_event} = $ev;
    $self->_deliver({%$ev}, 0) if @{ $self->{waiters} };
}

# Bytes the app took count toward credit, returned at half the window.
sub _account {
    my ($self, $n) = @_;
    return unless $n;
    $self->{uncredited} += $n;
    $self->_send_credit if $self->{uncredited} * 2 >= $self->_rwindow;
}

sub _send_credit {
    my ($self) = @_;
    return if $self->{gone};
    $self->{ctx}{send}->({ scope => $self->{id}, type => 'credit', bytes => $self->{uncredited} });
    $self->{uncredited} = 0;
}

# --- $send --------------------------------------------------------------------------

# Sends a wire message now when it fits the window (and nothing waits before
# it), else queues it until credit comes. Zero-byte messages keep their order.
sub _queue {
    my ($self, $wire, $bytes) = @_;
    return Future->done if $self->{gone};
    if (($self->{pending} && @{ $self->{pending} }) || ($bytes && $self->{in_flight} && $self->{in_flight} + $bytes > $self->_window)) {
        my $f = Future->new;
        push @{ $self->{pending} }, [ $wire, $f, $bytes ];
        return $f;
    }
    $self->_emit($wire, $bytes);
    return Future->done;
}

# A keepalive setting before the stream (sse) or connection (websocket) is
# open is held, the last one winning, until _release_keepalive sends it.
sub _keepalive_wire {
    my ($self, $wire, $hold) = @_;
    if ($hold) {
        $self->{early_keepalive} = $wire;
        return Future->done;
    }
    return $self->_queue($wire, 0);
}

sub _release_keepalive {
    my ($self) = @_;
    if (my $k = delete $self->{early_keepalive}) { $self->_queue($k, 0) }
}

# An http.response-style body (the sse decline, the websocket denial) cut
# into frames under the gateway's size limit; $counted: its bytes count
# against the send window. Returns the last frame's future.
sub _queue_body {
    my ($self, $type, $body, $more, $counted) = @_;
    my $max = $self->_max_payload;
    my $f;
    for (my $off = 0; $off < length($body) || !defined $f; $off += $max) {
        my $chunk = substr($body, $off, $max);
        my $last = $off + $max >= length $body;
        $f = $self->_queue({ type => $type, body => $chunk, more => $last ? $more : 1 }, $counted ? length $chunk : 0);
    }
    return $f;
}

sub _emit {
    my ($self, $wire, $bytes) = @_;
    $wire->{scope} = $self->{id};
    $self->{ctx}{send}->($wire);
    if ($bytes) {
        $self->{in_flight} += $bytes;
        $self->{transport}->_set_buffered($self->{in_flight});
    }
}

sub _credit {
    my ($self, $bytes) = @_;
    my $n = ($self->{in_flight} // 0) - $bytes;
    $self->{in_flight} = $n < 0 ? 0 : $n;
    $self->{transport}->_set_buffered($self->{in_flight}) if $self->{transport};
    my $pending = $self->{pending} || [];
    my $window = $self->_window;
    while (@$pending) {
        my ($wire, $f, $b) = @{ $pending->[0] };
        last if $b && $self->{in_flight} && $self->{in_flight} + $b > $window;
        shift @$pending;
        $self->_emit($wire, $b);
        $f->done;
    }
    $self->_send_scope_end if !@$pending && $self->{end_msg};
}

# --- the app finished ------------------------------------------------------------------

sub _app_finished {
    my ($self, $f) = @_;
    my ($failed, $error) = (0, '');
    if ($f->is_failed) {
        ($failed, $error) = (1, '' . ($f->failure)[0]);
        $self->{ctx}{log}->("$self->{scope}{type} $self->{scope}{raw_path}: app died: $error");
    }
    elsif ($f->is_cancelled) {
        ($failed, $error) = (1, 'app future cancelled');
    }
    $self->_app_returned($failed) unless $self->{gone};
    $self->{end_msg} = { scope => $self->{id}, type => 'scopeEnd', failed => $failed, message => $error };
    # Frames still waiting for credit reach the gateway before scopeEnd.
    $self->_send_scope_end unless $self->{pending} && @{ $self->{pending} };
}

sub _send_scope_end {
    my ($self) = @_;
    my $msg = delete $self->{end_msg} or return;
    $self->{ctx}{send}->($msg);
    $self->{ctx}{finished}->($self->{id});
}

1;
