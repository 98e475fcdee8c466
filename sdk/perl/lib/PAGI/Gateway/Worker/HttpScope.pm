package PAGI::Gateway::Worker::HttpScope;
# One http scope: runs the app with $scope/$receive/$send, feeds it the
# request body with credit, validates and forwards what it sends within the
# send window, follows responseDone/httpDisconnect into pagi.connection, and
# finishes with the 500 backstop (when needed) and scopeEnd.
# (Slightly over 500 lines: the hot paths of $send, run and the scope end
# stay in this one package so they are plain sub calls, not method lookups.)
#
# The worker (PAGI::Gateway::Worker) gives it:
#   ->{id}, and a context hashref `ctx` with
#     send     => sub ($wire_msg)  queue a frame
#     send_body => sub ($id, $body, $more)  optional: queue a plain
#                                  httpResponseBody without building the hash
#     send_raw => sub ($frame)     optional: queue an encoded frame (the
#                                  FastFrames response start and scopeEnd)
#     wire     => the Wire          optional: lets the XS body path (XS::http_body)
#                                  append frames to its output buffer
#     settings => welcome (sendWindow, receiveWindow, maxMessageBytes)
#     finished => sub ($id)        forget this scope
#     log      => sub ($text)
use strict;
use warnings;
use Future;
use Scalar::Util qw(blessed);
use PAGI::Gateway::Worker::ConnectionState;
use PAGI::Gateway::Worker::Transport;
use PAGI::Gateway::Worker::SendValidator;
use PAGI::Gateway::Worker::FastFrames;
use PAGI::Gateway::Worker::StreamScope;
use PAGI::Gateway::Worker::DoneFuture;
use PAGI::Gateway::Worker::XS;

my %SEND = (
    'http.response.start'      => \&PAGI::Gateway::Worker::SendValidator::response_start,
    'http.response.body'       => \&PAGI::Gateway::Worker::SendValidator::response_body,
    'http.response.trailers'   => \&PAGI::Gateway::Worker::SendValidator::response_trailers,
    'http.response.early_hint' => \&PAGI::Gateway::Worker::SendValidator::early_hint,
    'http.fullflush'           => sub { ({ type => 'httpFullflush' }, 0) },
);
# Which scope->{extensions} key an extension event needs.
my %NEEDS_EXT = ('http.fullflush' => 'fullflush', 'http.response.early_hint' => 'http.response.early_hint');
my $DISCONNECT = { type => 'http.disconnect' };
# What $send returns when the event went out at once, shared by every scope
# (DoneFuture.pm: why sharing is safe, and its cheaper awaits).
my $DONE = $PAGI::Gateway::Worker::DoneFuture::DONE;
my $FAST = PAGI::Gateway::Worker::FastFrames::available();
# The statuses the response-start fast path takes: the strings 200 .. 599
# (what /\A[2-5][0-9][0-9]\z/ matches; a hash lookup is cheaper).
my %STATUS = map { $_ => 1 } 200 .. 599;
# The XS body path (pagi_send.c): the plain body event that fits the window
# in one C call; a constant, so without the accelerator $send has no test.
use constant XS_BODY => PAGI::Gateway::Worker::XS::load() && defined &PAGI::Gateway::Worker::XS::http_body;

sub new {
    my ($class, %args) = @_;
    return _open($args{open}, $args{ctx}, $args{scope}, $class);
}

# new without the argument hash (the worker's per-request call):
# _open($open_msg, $ctx, $scope_hashref[, $class]).
sub _open {
    my ($m, $ctx, $scope, $class) = @_;
    my $w = $ctx->{settings};
    # rq (receive events not yet taken by the app) and waiters (receive
    # futures waiting for an event) come into being on their first push.
    my $self = bless {
        id        => $m->{scope},
        ctx       => $ctx,
        raw       => $FAST && $ctx->{send_raw},
        scope     => $scope,
        conn      => ($scope->{'pagi.connection'} = PAGI::Gateway::Worker::ConnectionState::_new()),
        transport => ($scope->{'pagi.transport'} = PAGI::Gateway::Worker::Transport::_new($w->{sendWindow})),
        window    => $w->{sendWindow},
        rwindow   => $w->{receiveWindow},
        # Largest body per frame: the gateway rejects frames over maxMessageBytes.
        max_chunk => ($w->{maxMessageBytes} || 16 * 1024 * 1024) - 4096,
        # Flags read as booleans start absent (false): uncredited (request
        # body bytes consumed, credit not yet sent), started, complete
        # (terminal body/file/trailers sent), trailers.
        body_more => 1,         # more request body may come
        continue  => $m->{expectContinue},
        in_flight => 0,         # response body bytes not yet credited back
        # pending  [wire, future, bytes] waiting for credit: only while
        #          something waits (made by the first, deleted when drained)
    }, $class // __PACKAGE__;
    if ($m->{hasBody}) {
        # An empty chunk with more to come tells the app nothing: its first
        # $receive waits for the first bytes instead.
        # The whole body in the open: its event is made when the app first
        # receives (many apps never read a GET's empty body).
        if (!$m->{more}) { $self->{body0} = $m->{body} // "" }
        elsif (length $m->{body}) { push @{ $self->{rq} }, { type => 'http.request', body => $m->{body}, more => 1 } }
        $self->{body_more} = $m->{more};
    }
    return $self;
}

# $receive and $send of a scope: [\$target, $receive, $send]. They reach
# the scope through $target, a weak reference: the app's future may hold them
# while the scope holds that future. Plain calls, not method calls.
sub _closures {
    my $target;
    my $receive = sub { $target ? _receive($target) : Future->done({%$DISCONNECT}) };
    # $send runs the hot paths itself (one sub frame less per event): a
    # plain byte-string body chunk of a started response, and a response
    # start with a canonical status and a valid header list. They pass every
    # check of _send by construction, so they go straight out.
    my $send = sub {
        # Takes a plain body chunk that fits (and the no-op after the end) or
        # changes nothing; the Perl below is the same path either way.
        return $DONE if XS_BODY && PAGI::Gateway::Worker::XS::http_body($target, $_[0]);
        my $self = $target or return $DONE;
        # After the client left (or the response finished) sends are no-ops.
        return $DONE if $self->{conn}{finished};
        my $ev = $_[0];
        if (ref $ev eq 'HASH' && defined(my $type = $ev->{type})) {
            if ($type eq 'http.response.body') {
                if ($self->{started} && !$self->{complete} && !defined $ev->{file} && !defined $ev->{fh}
                    && !defined $ev->{offset} && !defined $ev->{length}
                    && !ref $ev->{body} && !utf8::is_utf8($ev->{body} // '')) {
                    return _send_body($self, $ev->{body} // '', $ev->{more} ? 1 : 0);
                }
            }
            elsif ($type eq 'http.response.start' && $self->{raw} && !$self->{started}) {
                my ($status, $h) = $ev->{status};
                if (defined $status && !ref $status && $STATUS{$status}
                    && ($h = PAGI::Gateway::Worker::FastFrames::headers($ev->{headers} // []))
                    && !$self->{pending}) {
                    $self->{started} = $self->{conn}{started} = 1;
                    my $trailers = $ev->{trailers} ? 1 : 0;
                    $self->{trailers} = 1 if $trailers;    # a flag read as a boolean
                    $self->{raw}->(PAGI::Gateway::Worker::FastFrames::start_frame($self->{id}, $status, $trailers, $h));
                    return $DONE;
                }
            }
        }
        return _send($self, $ev);
    };
    return [ \$target, $receive, $send ];
}

# Closure sets of forgotten scopes that nothing else references any more
# (XS sole_ref: no other strong or weak reference to either closure, so no
# code can call them again): the next scope points them at itself instead
# of cloning two closures. Without the XS accelerator each scope makes its own.
my $SOLE = PAGI::Gateway::Worker::XS::load() && defined &PAGI::Gateway::Worker::XS::sole_ref
    ? \&PAGI::Gateway::Worker::XS::sole_ref : undef;
my @SPARE;
my $SPARE_MAX = 256;

sub run {
    my ($self, $app) = @_;
    my $c = $self->{cl} = pop(@SPARE) // _closures();
    Scalar::Util::weaken(${ $c->[0] } = $self);
    # Lexical copies, not the array's elements: anything the app keeps of its
    # arguments (even \@_) then holds a reference that sole_ref sees.
    my ($receive, $send) = ($c->[1], $c->[2]);
    my $f = eval { $app->($self->{scope}, $receive, $send) };
    if (!defined $f && $@) { $f = Future->fail($@) }
    elsif (ref $f ne 'Future' && !(blessed $f && $f->isa('Future'))) { $f = Future->done }
    # Most apps finish within the call (everything they sent fit the window),
    # successfully, with the response complete.
    if ($self->{complete} && $f->is_done) { _end_ok($self) }
    elsif ($f->is_ready) { _app_finished($self, $f) }
    else {
        $self->{app_future} = $f;    # kept while it runs
        PAGI::Gateway::Worker::StreamScope::_when_app_ready($self, $f);    # no closure per request
    }
    return;
}

# --- messages from the gateway ------------------------------------------------

sub on_message {
    my ($self, $m) = @_;
    my $t = $m->{type};
    if ($t eq 'credit') { $self->_credit($m->{bytes}) }
    elsif ($t eq 'httpRequest') {
        # The decoded message becomes the event (its body is not copied).
        $self->{body_more} = $m->{more};
        delete $m->{scope};
        $m->{type} = 'http.request';
        $self->_deliver($m);
    }
    elsif ($t eq 'responseDone') {
        # Once scopeEnd went out nobody can receive it (the scope is forgotten below).
        if (!PAGI::Gateway::Worker::ConnectionState::_complete($self->{conn})) { $self->_maybe_forget }
        elsif ($self->{ended}) { _forget($self) }    # _maybe_forget, now finished
        else { $self->_deliver({%$DISCONNECT}) }    # not ended: nothing to forget yet
    }
    elsif ($t eq 'httpDisconnect') {
        $self->_client_gone($m->{reason} || 'client_closed');
        $self->_maybe_forget;
    }
    return;
}

sub _client_gone {
    my ($self, $reason) = @_;
    return unless $self->{conn}->_disconnect($reason);
    # Sends after disconnect are no-ops: release anything waiting for credit.
    my $pending = delete $self->{pending};
    $_->[1]->done for @{ $pending || [] };
    $self->_deliver({%$DISCONNECT});
    $self->_send_scope_end if $self->{end_msg};
}

sub _deliver {
    my ($self, $ev) = @_;
    if (my $f = shift @{ $self->{waiters} }) { $self->_account($ev); $f->done($ev) }
    else { push @{ $self->{rq} }, $ev }
}

# --- $receive -------------------------------------------------------------------

sub _receive {
    my ($self) = @_;
    if (defined(my $body = delete $self->{body0})) {
        # The open's whole body (see _open) comes before anything in rq; what
        # _account would do for it (no credit: nothing more comes).
        $self->{continue} = 0 if length $body;
        return Future->done({ type => 'http.request', body => $body, more => 0 });
    }
    if (my $ev = shift @{ $self->{rq} }) {
        $self->_account($ev);
        return Future->done($ev);
    }
    return Future->done({%$DISCONNECT}) if $self->{conn}->_finished;
    my $send = $self->{ctx}{send};
    if ($self->{continue}) {
        # First read of a 100-continue request: this credit opens the body.
        $self->{continue} = 0;
        $send->({ scope => $self->{id}, type => 'credit', bytes => $self->{rwindow} });
    }
    # No credit for bytes under half the window when the app waits: the
    # gateway cuts body chunks to fit the window it has left, so it stalls
    # only once the whole window is outstanding, and _account returns credit
    # at half (a credit frame per wait cost both processes CPU per request).
    my $f = Future->new;
    push @{ $self->{waiters} }, $f;
    return $f;
}

# Counts body bytes the app took; credits them back in batches.
sub _account {
    my ($self, $ev) = @_;
    my $n = length($ev->{body} // '') or return;
    $self->{continue} = 0;
    return unless $ev->{more};
    $self->{uncredited} += $n;
    if ($self->{uncredited} * 2 >= $self->{rwindow}) {
        $self->{ctx}{send}->({ scope => $self->{id}, type => 'credit', bytes => $self->{uncredited} });
        $self->{uncredited} = 0;
    }
}

# --- $send ----------------------------------------------------------------------

# Everything $send does not take on its hot paths (see _closures):
# validation, then the send window.
sub _send {
    my ($self, $ev) = @_;
    my ($wire, $bytes) = eval {
        die "pagi-worker-perl: \$send expects an event hash reference\n" unless ref $ev eq 'HASH';
        my $type = $ev->{type};
        die "pagi-worker-perl: \$send event without a type\n" unless defined $type;
        my $check = $SEND{$type}
            or die "pagi-worker-perl: unsupported event type '$type' for an http scope\n";
        if (my $ext = $NEEDS_EXT{$type}) {
            die "pagi-worker-perl: '$type' needs the '$ext' extension, which this scope does not advertise\n"
                unless $self->{scope}{extensions}{$ext};
        }
        my @r = $check->($ev);
        $self->_check_order($type, $r[0]);
        @r;
    };
    return Future->fail($@) unless $wire;
    return $self->_stream_fh($wire) if $wire->{fh};
    return $self->_emit_or_wait($wire, $bytes);
}

# Response state rules; the gateway enforces the same and would drop the worker.
sub _check_order {
    my ($self, $type, $wire) = @_;
    die "pagi-worker-perl: $type after the response completed\n" if $self->{complete};
    if ($type eq 'http.response.start') {
        die "pagi-worker-perl: http.response.start sent twice\n" if $self->{started};
        $self->{started} = 1;
        $self->{trailers} = $wire->{trailers};
        $self->{conn}->_mark_started;
    }
    elsif ($type eq 'http.response.early_hint') {
        die "pagi-worker-perl: http.response.early_hint after http.response.start\n" if $self->{started};
    }
    else {
        die "pagi-worker-perl: $type before http.response.start\n" unless $self->{started};
        if ($type eq 'http.response.trailers') {
            die "pagi-worker-perl: http.response.trailers without trailers => 1 in http.response.start\n"
                unless $self->{trailers};
            die "pagi-worker-perl: http.response.trailers before the final body\n" unless $self->{body_done};
            $self->_set_complete;
        }
        elsif ($type eq 'http.response.body') {
            return if $wire->{fh};
            if (!$wire->{more} || defined $wire->{file}) {
                $self->{body_done} = 1;
                $self->_set_complete unless $self->{trailers};
            }
        }
    }
}

sub _set_complete {
    my ($self) = @_;
    $self->{complete} = 1;
    $self->{conn}->_mark_complete;
}

sub _emit_or_wait {
    my ($self, $wire, $bytes) = @_;
    if ($bytes > $self->{max_chunk}) {
        # One frame must stay under maxMessageBytes: split the body.
        my $body = $wire->{body};
        my $more = $wire->{more};
        my @f;
        for (my $off = 0; $off < $bytes; $off += $self->{max_chunk}) {
            my $chunk = substr($body, $off, $self->{max_chunk});
            my $last = $off + $self->{max_chunk} >= $bytes;
            push @f, $self->_emit_or_wait(
                { type => 'httpResponseBody', body => $chunk, more => $last ? $more : 1 }, length $chunk);
        }
        return Future->needs_all(@f)->then(sub { Future->done });
    }
    if ($self->{pending} || ($self->{in_flight} && $self->{in_flight} + $bytes > $self->{window})) {
        my $f = Future->new;
        push @{ $self->{pending} }, [ $wire, $f, $bytes ];
        return $f;
    }
    $self->_emit($wire, $bytes);
    return $DONE;
}

# A validated plain body chunk (see _send); the same state changes as
# _check_order and _emit_or_wait make for it. The body is used as $_[1], not copied into a lexical: a streamed chunk
# (16 KiB and more) goes from the app's string to the encoder in place.
sub _send_body {
    my ($self, undef, $more) = @_;
    if (!$more) {
        $self->{body_done} = 1;
        $self->{complete} = $self->{conn}{complete} = 1 unless $self->{trailers};    # _set_complete
    }
    my $n = length $_[1];
    return $self->_emit_or_wait({ type => 'httpResponseBody', body => $_[1], more => $more }, $n)
        if $n > $self->{max_chunk} || $self->{pending}
            || ($self->{in_flight} && $self->{in_flight} + $n > $self->{window});
    if (my $send_body = $self->{ctx}{send_body}) { $send_body->($self->{id}, $_[1], $more) }
    else { $self->{ctx}{send}->({ scope => $self->{id}, type => 'httpResponseBody', body => $_[1], more => $more }) }
    if ($n) {
        my $t = $self->{transport};
        $n = $t->{buffered} = $self->{in_flight} += $n;
        $t->_set_buffered($n) unless $t->{above} || $n < $t->{high};
    }
    return $DONE;
}

# Sends a wire message now, counting its bytes in flight, as for websocket
# and sse scopes; a plain response body (only httpResponseBody wires carry
# `body`) goes through the body encoder, as one that fit the window at once.
sub _emit {
    my ($self, $wire, $bytes) = @_;
    my $send_body = $self->{ctx}{send_body};
    return PAGI::Gateway::Worker::StreamScope::_emit($self, $wire, $bytes) unless $send_body && defined $wire->{body};
    $send_body->($self->{id}, $wire->{body}, $wire->{more});
    $self->{transport}->_set_buffered($self->{in_flight} += $bytes) if $bytes;
}

sub _credit {
    my ($self, $bytes) = @_;
    my $n = $self->{in_flight} - $bytes;
    $self->{in_flight} = $n < 0 ? 0 : $n;
    $self->{transport}->_set_buffered($self->{in_flight});
    if (my $pending = $self->{pending}) {
        # A waiting app is woken only once at most half the window is in
        # flight: a credit that frees less would wake it for one or two events.
        # Cannot stall: the gateway credits every byte once it drained.
        return if $self->{in_flight} * 2 > $self->{window};
        while (@$pending) {
            my ($wire, $f, $b) = @{ $pending->[0] };
            last if $self->{in_flight} && $self->{in_flight} + $b > $self->{window};
            shift @$pending;
            # Drained: gone before the app wakes (its next send need not wait).
            delete $self->{pending} unless @$pending;
            $self->_emit($wire, $b);
            $f->done;
        }
    }
    $self->_send_scope_end if !$self->{pending} && $self->{end_msg};
}

# `fh` bodies become ordinary body events read from the handle.
sub _stream_fh {
    my ($self, $spec) = @_;
    my ($fh, $offset, $length) = @$spec{qw(fh offset length)};
    my $chunk = $self->{window} < $self->{max_chunk} ? $self->{window} : $self->{max_chunk};
    $chunk = 65536 if $chunk <= 0;
    if ($offset) {
        seek($fh, $offset, 0) or return Future->fail("pagi-worker-perl: http.response.body: cannot seek fh: $!\n");
    }
    my $left = $length;
    my $step;
    $step = sub {
        return Future->done if $self->{conn}{finished};
        my $want = defined $left && $left < $chunk ? $left : $chunk;
        my $n = $want ? read($fh, my $buf, $want) : 0;
        return Future->fail("pagi-worker-perl: http.response.body: read from fh failed: $!\n") unless defined $n;
        $left -= $n if defined $left;
        my $last = $n == 0 || (defined $left && $left <= 0);
        my $wire = { type => 'httpResponseBody', body => $buf // '', more => $last ? 0 : 1 };
        if ($last) {
            eval { $self->_check_order('http.response.body', $wire); 1 } or return Future->fail($@);
        }
        my $f = $self->_emit_or_wait($wire, $n);
        return $last ? $f : $f->then($step);
    };
    my $f = $step->();
    return $f->on_ready(sub { undef $step });
}

# --- the app finished -------------------------------------------------------------

sub _app_finished {
    my ($self, $f) = @_;
    return _end_ok($self) if $self->{complete} && $f->is_done;
    my $conn = $self->{conn};
    my $scope = $self->{scope};
    my ($failed, $error) = (0, '');
    if ($f->is_done) { }
    elsif ($f->is_failed) {
        ($error) = $f->failure;
        $error = "$error";
        $failed = 1;
        $self->{ctx}{log}->("$scope->{method} $scope->{raw_path}: app died: $error");
    }
    elsif ($f->is_cancelled) {
        ($failed, $error) = (1, 'app future cancelled');
    }
    if (!$self->{started} && !$conn->{finished}) {
        # The backstop: the client still waits for a response that will never come.
        $self->{ctx}{log}->("$scope->{method} $scope->{raw_path}: app returned without a response; sending 500")
            unless $failed;
        $self->{started} = $self->{complete} = 1;
        $conn->_mark_started;
        $conn->_mark_complete;
        my $body = "Internal Server Error\n";
        $self->_emit({ type => 'httpResponseStart', status => 500,
                       headers => [ 'content-type', 'text/plain; charset=utf-8', 'content-length', length $body,
                                    'connection', 'close' ] }, 0);   # the spec: backstop, then close
        $self->_emit({ type => 'httpResponseBody', body => $body, more => 0 }, length $body);
        $conn->_disconnect('server_error');
        $self->_deliver({%$DISCONNECT});
    }
    elsif (!$self->{complete} && !$conn->{finished}) {
        # Started but never finished: the gateway aborts the exchange.
        $self->_client_gone('server_error');
    }
    # A plain 1 for the usual successful end: the frame is built when it goes out.
    $self->{end_msg} = $failed ? { scope => $self->{id}, type => 'scopeEnd', failed => 1, message => $error } : 1;
    # Frames still waiting for credit must reach the gateway before scopeEnd.
    $self->_send_scope_end unless $self->{pending};
}

# The usual end: the app succeeded and the response is complete (what
# _app_finished's general path does for it). A plain 1 for the successful
# end: the frame is built when it goes out.
sub _end_ok {
    my ($self) = @_;
    if ($self->{pending} || !$self->{raw}) {
        $self->{end_msg} = 1;
        _send_scope_end($self) unless $self->{pending};
        return;
    }
    # Nothing waits for credit: _send_scope_end's fast frame, inline.
    $self->{raw}->(PAGI::Gateway::Worker::FastFrames::scope_end_ok_frame($self->{id}));
    $self->{ended} = 1;
    _forget($self) if $self->{conn}{finished};    # complete: else kept for responseDone
}

sub _send_scope_end {
    my ($self) = @_;
    my $msg = delete $self->{end_msg} or return;
    if (ref $msg) { $self->{ctx}{send}->($msg) }
    elsif ($self->{raw}) { $self->{raw}->(PAGI::Gateway::Worker::FastFrames::scope_end_ok_frame($self->{id})) }
    else { $self->{ctx}{send}->({ scope => $self->{id}, type => 'scopeEnd', failed => 0, message => '' }) }
    $self->{ended} = 1;
    # _maybe_forget inline (the usual case: a complete response waits for responseDone).
    _forget($self) if !$self->{complete} || $self->{conn}{finished};
}

# Kept until scopeEnd went out and, for a complete response, until the
# gateway said how it ended (on_complete/on_disconnect need that message).
sub _maybe_forget {
    my ($self) = @_;
    return unless $self->{ended};
    return if $self->{complete} && !$self->{conn}{finished};
    _forget($self);
}

# The worker forgets the scope (its app has finished: scopeEnd went out);
# its closures become spare when nothing else holds them.
sub _forget {
    my ($self) = @_;
    my $c = delete $self->{cl};
    if ($c && $SOLE && @SPARE < $SPARE_MAX && $SOLE->($c->[1]) && $SOLE->($c->[2])) {
        ${ $c->[0] } = undef;
        push @SPARE, $c;
    }
    $self->{ctx}{finished}->($self->{id});
}

1;
