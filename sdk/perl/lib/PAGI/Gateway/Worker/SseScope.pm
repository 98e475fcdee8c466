package PAGI::Gateway::Worker::SseScope;
# One sse scope (PAGI::Spec::Www, Server-Sent Events): sse.request body
# events and sse.disconnect in; sse.start / send / comment / keepalive /
# close, or the sse.http.response decline, out. Each send is checked the way
# the gateway checks it (docs/protocol.md) so a bad event fails that $send.
#
# States: new -> streaming (sse.start) or declining (sse.http.response.start;
# first send wins, the other family raises) -> closed (sse.close, the final
# decline body, or the app returned). After sse.close stream events raise and
# a second sse.close is ignored. Once the gateway reported the disconnect,
# sends that would be valid are no-ops.
#
# Flow control (docs/protocol.md 3b): sse.send data bytes (UTF-8) and decline
# body bytes count against the send window; request body bytes are credited
# back as the app takes them, with 100-continue as for http.
use strict;
use warnings;
use parent 'PAGI::Gateway::Worker::StreamScope';
use Future;
use PAGI::Gateway::Worker::SendValidator;

my $SV = 'PAGI::Gateway::Worker::SendValidator';

sub new {
    my ($class, %args) = @_;
    my $self = $class->SUPER::new(%args);
    $self->{state} = 'new';
    my $m = $args{open};
    if ($m->{hasBody}) {
        # The open carries the first sse.request; only chunks with more to
        # come earn credit (the gateway sends nothing after the last one).
        push @{ $self->{rq} }, [ { type => 'sse.request', body => $m->{body}, more => $m->{more} },
                                 $m->{more} ? length $m->{body} : 0 ];
    }
    $self->{continue} = $m->{expectContinue};
    return $self;
}

# The first read of an `Expect: 100-continue` request sends the credit that
# releases the body (as for http).
sub _receive {
    my ($self) = @_;
    if ($self->{continue}) {
        $self->{continue} = 0;
        $self->{ctx}{send}->({ scope => $self->{id}, type => 'credit', bytes => $self->_rwindow });
    }
    return $self->SUPER::_receive;
}

*_err = \&PAGI::Gateway::Worker::SendValidator::_err;

# --- gateway -> app ---------------------------------------------------------------------

sub _translate {
    my ($self, $m) = @_;
    my $t = $m->{type};
    if ($t eq 'sseRequest') {
        return ({ type => 'sse.request', body => $m->{body}, more => $m->{more} },
                $m->{more} ? length $m->{body} : 0);
    }
    if ($t eq 'sseDisconnect') {
        return if $self->{gone};
        my $ev = { type => 'sse.disconnect', reason => $m->{reason} || 'client_closed' };
        $self->{end_event} //= $ev;
        $self->_gone;
        return ($ev, 0);
    }
    if ($t eq 'responseDone') {
        # The stream (or decline) fully reached the client.
        $self->_ended;
        return;
    }
    return;
}

# The stream ended from this side: nothing more will come, so a waiting or
# later $receive gets sse.disconnect (with the close reason when given).
sub _ended {
    my ($self) = @_;
    return if $self->{end_event};
    $self->_end_with({ type => 'sse.disconnect', reason => $self->{close_reason} || 'server_shutdown' });
}

# --- app -> gateway ----------------------------------------------------------------------

my %SEND = (
    'sse.start'               => \&_start,
    'sse.send'                => \&_event,
    'sse.comment'             => \&_comment,
    'sse.keepalive'           => \&_keepalive,
    'sse.close'               => \&_close,
    'sse.http.response.start' => \&_decline_start,
    'sse.http.response.body'  => \&_decline_body,
);
my %STREAM_EVENT = map { $_ => 1 } qw(sse.start sse.send sse.comment sse.keepalive sse.close);

sub _send {
    my ($self, $ev) = @_;
    my $f = eval {
        die "pagi-worker-perl: \$send expects an event hash reference\n" unless ref $ev eq 'HASH';
        my $type = $ev->{type};
        die "pagi-worker-perl: \$send event without a type\n" unless defined $type;
        my $h = $SEND{$type} or die "pagi-worker-perl: unsupported event type '$type' for an sse scope\n";
        $self->_check_state($type);
        $h->($self, $ev);
    };
    return $f // Future->fail($@);
}

# First send wins: the stream family and the decline family exclude each other.
sub _check_state {
    my ($self, $type) = @_;
    my $state = $self->{state};
    if ($STREAM_EVENT{$type}) {
        die "pagi-worker-perl: $type after sse.http.response.start (the request was declined)\n"
            if $state eq 'declining' || $self->{declined};
        return if $type eq 'sse.close' || $type eq 'sse.keepalive';
        die "pagi-worker-perl: $type after sse.close\n" if $state eq 'closed';
        die "pagi-worker-perl: sse.start sent twice\n" if $type eq 'sse.start' && $state ne 'new';
        die "pagi-worker-perl: $type before sse.start\n" if $type ne 'sse.start' && $state eq 'new';
        return;
    }
    die "pagi-worker-perl: $type after sse.start\n" if $self->{started};
    if ($type eq 'sse.http.response.start') {
        die "pagi-worker-perl: $type sent twice\n" if $state ne 'new';
    }
    else {
        die "pagi-worker-perl: $type before sse.http.response.start\n" if $state eq 'new';
        die "pagi-worker-perl: $type after the response completed\n" if $state eq 'closed';
    }
}

sub _text_field {
    my ($type, $key, $v, $single_line) = @_;
    _err($type, "$key must be a string") if ref $v;
    _err($type, "$key contains a surrogate or a character above U+10FFFF")
        if utf8::is_utf8($v) && $v =~ /[\x{D800}-\x{DFFF}]|[^\x{0}-\x{10FFFF}]/;
    _err($type, "$key must not contain CR, LF or NUL") if $single_line && $v =~ /[\r\n\0]/;
    utf8::encode($v);
    return $v;
}

sub _start {
    my ($self, $ev) = @_;
    my $type = 'sse.start';
    my $status = $SV->can('status')->($type, $ev->{status} // 200);
    my $headers = $SV->can('headers')->($type, $ev->{headers});
    $self->{state} = 'streaming';
    $self->{started} = 1;
    my $f = $self->_queue({ type => 'sseStart', status => $status, headers => $headers }, 0);
    $self->_release_keepalive;
    return $f;
}

sub _event {
    my ($self, $ev) = @_;
    my $type = 'sse.send';
    _err($type, 'data is required') unless defined $ev->{data};
    my %wire = (type => 'sseSend', data => _text_field($type, 'data', $ev->{data}), retry => -1);
    for my $k (qw(event id)) {
        next unless defined $ev->{$k};
        $wire{$k} = _text_field($type, $k, $ev->{$k}, 1);
        $wire{ $k eq 'event' ? 'hasEvent' : 'hasId' } = 1;
    }
    if (defined(my $r = $ev->{retry})) {
        _err($type, 'retry must be a non-negative integer (milliseconds)') unless !ref $r && $r =~ /\A\d+\z/;
        _err($type, 'retry is too large') if length($r) > 18;
        $wire{retry} = $r + 0;
    }
    my $n = length $wire{data};
    _err($type, "event of $n bytes is over this worker's frame limit (" . $self->_max_payload . ")")
        if $n + length($wire{event} // '') + length($wire{id} // '') > $self->_max_payload;
    return $self->_queue(\%wire, $n);
}

sub _comment {
    my ($self, $ev) = @_;
    my $comment = _text_field('sse.comment', 'comment', $ev->{comment} // '', 1);
    return $self->_queue({ type => 'sseComment', text => $comment }, 0);
}

sub _keepalive {
    my ($self, $ev) = @_;
    my $type = 'sse.keepalive';
    my $wire = { type => 'sseKeepalive', intervalMs => $SV->can('seconds_to_ms')->($type, 'interval', $ev->{interval}),
                 comment => _text_field($type, 'comment', $ev->{comment} // '', 1) };
    die "pagi-worker-perl: $type after sse.close\n" if $self->{state} eq 'closed';
    # Comments need a started stream: keep the last setting until sse.start.
    return $self->_keepalive_wire($wire, $self->{state} eq 'new');
}

sub _close {
    my ($self, $ev) = @_;
    my $reason = _text_field('sse.close', 'reason', $ev->{reason} // '');
    return Future->done if $self->{state} eq 'closed';    # idempotent
    die "pagi-worker-perl: sse.close before sse.start\n" if $self->{state} eq 'new';
    $self->{state} = 'closed';
    $self->{close_reason} = $ev->{reason} if defined $ev->{reason} && !ref $ev->{reason} && length $ev->{reason};
    my $f = $self->_queue({ type => 'sseClose', text => $reason }, 0);
    $self->_ended;
    return $f;
}

sub _decline_start {
    my ($self, $ev) = @_;
    my $type = 'sse.http.response.start';
    my $status = $SV->can('status')->($type, $ev->{status});
    my $headers = $SV->can('headers')->($type, $ev->{headers});
    $self->{state} = 'declining';
    $self->{declined} = 1;
    return $self->_queue({ type => 'sseHttpResponseStart', status => $status, headers => $headers }, 0);
}

sub _decline_body {
    my ($self, $ev) = @_;
    my $type = 'sse.http.response.body';
    my $body = $SV->can('_bytes')->($type, 'body', $ev->{body} // '');
    my $more = $ev->{more} ? 1 : 0;
    # A decline is an ordinary response: its body counts against the send window.
    my $f = $self->_queue_body('sseHttpResponseBody', $body, $more, 1);
    unless ($more) {
        $self->{state} = 'closed';
        $self->_ended;
    }
    return $f;
}

# --- the app finished --------------------------------------------------------------------

sub _app_returned {
    my ($self, $failed) = @_;
    my $state = $self->{state};
    if ($state eq 'new') {
        # The backstop: the client still waits for an answer.
        $self->{ctx}{log}->("sse $self->{scope}{raw_path}: app returned without sse.start; sending 500")
            unless $failed;
        my $body = "Internal Server Error\n";
        $self->_queue({ type => 'sseHttpResponseStart', status => 500,
                        headers => [ 'content-type', 'text/plain; charset=utf-8', 'content-length', length $body ] }, 0);
        $self->_queue({ type => 'sseHttpResponseBody', body => $body, more => 0 }, length $body);
    }
    elsif ($state eq 'declining') {
        $self->_queue({ type => 'sseHttpResponseBody', body => '', more => 0 }, 0);
    }
    elsif ($state eq 'streaming' && !$failed) {
        # Returning ends the stream like sse.close; a failed app's stream is
        # left for the gateway to abort (scopeEnd failed).
        $self->_queue({ type => 'sseClose', text => '' }, 0);
    }
    $self->{state} = 'closed';
}

1;
