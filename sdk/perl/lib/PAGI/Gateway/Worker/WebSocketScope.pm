package PAGI::Gateway::Worker::WebSocketScope;
# One websocket scope (PAGI::Spec::Www, WebSocket): websocket.connect /
# receive / disconnect in, websocket.accept / send / close / keepalive and
# the websocket.http.response denial out, each send checked the way the
# gateway checks it (docs/protocol.md) so a bad event fails that $send and
# not the worker.
#
# States: connecting (handshake held by the gateway) -> open (accepted) or
# denying (websocket.http.response.start sent) -> closed (the app closed or
# finished its denial). `gone` (the gateway reported the disconnect) can
# happen in any state; from then on every $send is a no-op.
#
# Flow control: websocket.send payload bytes (UTF-8 bytes for text) count
# against the send window; websocket.receive payload bytes are credited back
# as the app takes them.
use strict;
use warnings;
use parent 'PAGI::Gateway::Worker::StreamScope';
use Future;
use PAGI::Gateway::Worker::SendValidator;

my $SV = 'PAGI::Gateway::Worker::SendValidator';
my $EXT = 'websocket.http.response';
# Largest reason a close frame carries (125 bytes of payload minus the code).
my $MAX_REASON = 123;

sub new {
    my ($class, %args) = @_;
    my $self = $class->SUPER::new(%args);
    $self->{state} = 'connecting';
    return $self;
}

*_err = \&PAGI::Gateway::Worker::SendValidator::_err;

# --- gateway -> app ------------------------------------------------------------------

sub _translate {
    my ($self, $m) = @_;
    my $t = $m->{type};
    if ($t eq 'websocketReceive') {
        if ($m->{isText}) {
            my $text = $m->{text};
            my $n = length $text;
            utf8::decode($text);    # the gateway checked it is UTF-8
            return ({ type => 'websocket.receive', text => $text }, $n);
        }
        return ({ type => 'websocket.receive', bytes => $m->{bytes} }, length $m->{bytes});
    }
    if ($t eq 'websocketConnect') { return ({ type => 'websocket.connect' }, 0) }
    if ($t eq 'websocketDisconnect') {
        my $reason = $m->{reason};
        utf8::decode($reason);
        my $ev = { type => 'websocket.disconnect', code => $m->{code}, reason => $reason };
        return if $self->{gone} || $self->{end_event};
        $self->{end_event} = $ev;
        $self->_gone;
        return ($ev, 0);
    }
    return;
}

# The handshake ended without a connection: there will be no disconnect
# from the gateway, so the app's receive gets one here.
sub _denied {
    my ($self) = @_;
    $self->{state} = 'closed';
    return if $self->{end_event};
    $self->_end_with({ type => 'websocket.disconnect', code => 1006, reason => '' });
}

# --- app -> gateway ------------------------------------------------------------------

my %SEND = (
    'websocket.accept'              => \&_accept,
    'websocket.send'                => \&_message,
    'websocket.close'               => \&_close,
    'websocket.keepalive'           => \&_keepalive,
    'websocket.http.response.start' => \&_deny_start,
    'websocket.http.response.body'  => \&_deny_body,
);

sub _send {
    my ($self, $ev) = @_;
    my $f = eval {
        die "pagi-worker-perl: \$send expects an event hash reference\n" unless ref $ev eq 'HASH';
        my $type = $ev->{type};
        die "pagi-worker-perl: \$send event without a type\n" unless defined $type;
        my $h = $SEND{$type} or die "pagi-worker-perl: unsupported event type '$type' for a websocket scope\n";
        # Sends after the connection closed are no-ops (the spec); checked
        # before validation so a racing sender never raises.
        return Future->done if $self->{gone} || $self->{state} eq 'closed';
        $h->($self, $ev);
    };
    return $f // Future->fail($@);
}

sub _accept {
    my ($self, $ev) = @_;
    my $type = 'websocket.accept';
    die "pagi-worker-perl: websocket.accept after the connection was accepted\n" if $self->{state} eq 'open';
    die "pagi-worker-perl: websocket.accept after websocket.http.response.start\n" if $self->{state} eq 'denying';
    my %wire = (type => 'websocketAccept', headers => $SV->can('headers')->($type, $ev->{headers}));
    if (defined(my $sp = $ev->{subprotocol})) {
        _err($type, 'subprotocol must be a non-empty token') if ref $sp || $sp !~ $PAGI::Gateway::Worker::SendValidator::TOKEN;
        @wire{qw(hasSubprotocol subprotocol)} = (1, $sp);
    }
    $self->{state} = 'open';
    my $f = $self->_queue(\%wire, 0);
    $self->_release_keepalive;    # one asked for during the handshake starts now
    return $f;
}

sub _message {
    my ($self, $ev) = @_;
    my $type = 'websocket.send';
    my ($text, $bytes) = @$ev{qw(text bytes)};
    _err($type, 'give exactly one of text or bytes') if defined($text) == defined($bytes);
    die "pagi-worker-perl: websocket.send before websocket.accept\n" unless $self->{state} eq 'open';
    my $wire;
    if (defined $text) {
        _err($type, 'text must be a string') if ref $text;
        _err($type, 'text contains a surrogate or a character above U+10FFFF')
            if utf8::is_utf8($text) && $text =~ /[\x{D800}-\x{DFFF}]|[^\x{0}-\x{10FFFF}]/;
        utf8::encode($text);
        $wire = { type => 'websocketSend', isText => 1, text => $text };
        $bytes = $text;
    }
    else {
        $bytes = $SV->can('_bytes')->($type, 'bytes', $bytes);
        $wire = { type => 'websocketSend', isText => 0, bytes => $bytes };
    }
    my $n = length $bytes;
    _err($type, "message of $n bytes is over this worker's frame limit (" . $self->_max_payload . ")")
        if $n > $self->_max_payload;
    return $self->_queue($wire, $n);
}

sub _close {
    my ($self, $ev) = @_;
    my $type = 'websocket.close';
    my $code = $ev->{code} // 1000;
    _err($type, 'code must be an integer') unless $SV->can('_int')->($code);
    _err($type, "code $code may not be sent (1000-1003, 1007-1014, 3000-4999)")
        unless ($code >= 1000 && $code <= 1003) || ($code >= 1007 && $code <= 1014) || ($code >= 3000 && $code <= 4999);
    my $reason = $ev->{reason} // '';
    _err($type, 'reason must be a string') if ref $reason;
    utf8::encode($reason) if utf8::is_utf8($reason) || $reason =~ /[^\x00-\x7f]/;
    _err($type, "reason is over $MAX_REASON bytes") if length $reason > $MAX_REASON;
    die "pagi-worker-perl: websocket.close after websocket.http.response.start\n" if $self->{state} eq 'denying';
    my $denial = $self->{state} eq 'connecting';
    $self->{state} = 'closed';
    my $f = $self->_queue({ type => 'websocketClose', code => $code + 0, reason => $reason }, 0);
    $self->_denied if $denial;    # before accept: the gateway answers 403
    return $f;
}

sub _keepalive {
    my ($self, $ev) = @_;
    my $type = 'websocket.keepalive';
    my $wire = { type => 'websocketKeepalive', intervalMs => $SV->can('seconds_to_ms')->($type, 'interval', $ev->{interval}),
                 timeoutMs => defined $ev->{timeout} ? $SV->can('seconds_to_ms')->($type, 'timeout', $ev->{timeout}) : 0 };
    die "pagi-worker-perl: websocket.keepalive after websocket.http.response.start\n" if $self->{state} eq 'denying';
    # Pings need an open connection: remember the last setting until accept.
    return $self->_keepalive_wire($wire, $self->{state} eq 'connecting');
}

sub _deny_start {
    my ($self, $ev) = @_;
    my $type = 'websocket.http.response.start';
    return Future->done if $self->{state} eq 'open';    # the spec: ignored after accept
    die "pagi-worker-perl: '$type' needs the '$EXT' extension, which this scope does not advertise\n"
        unless $self->{scope}{extensions}{$EXT};
    die "pagi-worker-perl: $type sent twice\n" if $self->{state} eq 'denying';
    my $status = $SV->can('status')->($type, $ev->{status});
    my $headers = $SV->can('headers')->($type, $ev->{headers});
    $self->{state} = 'denying';
    return $self->_queue({ type => 'websocketHttpResponseStart', status => $status, headers => $headers }, 0);
}

sub _deny_body {
    my ($self, $ev) = @_;
    my $type = 'websocket.http.response.body';
    return Future->done if $self->{state} eq 'open';    # ignored after accept
    die "pagi-worker-perl: $type before websocket.http.response.start\n" unless $self->{state} eq 'denying';
    my $body = $SV->can('_bytes')->($type, 'body', $ev->{body} // '');
    my $more = $ev->{more} ? 1 : 0;
    # Denial bodies are not flow controlled; only the frame size limits them.
    my $f = $self->_queue_body('websocketHttpResponseBody', $body, $more, 0);
    $self->_denied unless $more;
    return $f;
}

# --- the app finished --------------------------------------------------------------------

sub _app_returned {
    my ($self, $failed) = @_;
    my $state = $self->{state};
    if ($state eq 'connecting') {
        # Never answered the handshake: reject it (403). A failed app sends
        # nothing: the gateway answers its scopeEnd with 500.
        $self->_queue({ type => 'websocketClose', code => 1000, reason => '' }, 0) unless $failed;
    }
    elsif ($state eq 'denying') {
        $self->_queue({ type => 'websocketHttpResponseBody', body => '', more => 0 }, 0);
    }
    elsif ($state eq 'open') {
        # Returning closes the connection: normally, or 1011 when the app died.
        $self->_queue({ type => 'websocketClose', code => $failed ? 1011 : 1000, reason => '' }, 0);
    }
    $self->{state} = 'closed';
}

1;
