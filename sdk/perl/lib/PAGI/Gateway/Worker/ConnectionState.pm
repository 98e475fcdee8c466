package PAGI::Gateway::Worker::ConnectionState;
# The `pagi.connection` object of an http scope: disconnect detection and
# response progress, following the spec's state transition order. The scope
# driver (HttpScope) calls the underscore methods; applications call the rest.
use strict;
use warnings;
use Future;

sub new {
    my ($class) = @_;
    # connected, reason, started, complete, finished (one of disconnect or
    # complete happened), callbacks, future.
    return bless { connected => 1, started => 0, complete => 0 }, $class;
}

# new() as a plain call (the http scope's, once per request).
sub _new { bless { connected => 1, started => 0, complete => 0 }, __PACKAGE__ }

sub is_connected      { $_[0]{connected} ? 1 : 0 }
sub disconnect_reason { $_[0]{reason} }
sub response_started  { $_[0]{started} }
sub response_complete { $_[0]{complete} }

sub on_disconnect {
    my ($self, $cb) = @_;
    if (defined $self->{reason}) { _call($cb, $self->{reason}) }
    elsif (!$self->{finished}) { push @{ $self->{on_disconnect} }, $cb }
    return;
}

sub on_complete {
    my ($self, $cb) = @_;
    if ($self->{finished}) { _call($cb) if !defined $self->{reason} }
    else { push @{ $self->{on_complete} }, $cb }
    return;
}

sub disconnect_future {
    my ($self) = @_;
    return $self->{future} //= defined $self->{reason}
        ? Future->done($self->{reason})
        : Future->new;
}

# --- driven by the scope ------------------------------------------------------

sub _mark_started  { $_[0]{started} = 1 }
sub _mark_complete { $_[0]{complete} = 1 }
sub _finished      { $_[0]{finished} }

# Abnormal end: is_connected false, reason, future, callbacks (the receive
# queue gets http.disconnect from the caller, last). Returns false when the
# request had already ended one way or the other.
sub _disconnect {
    my ($self, $reason) = @_;
    return 0 if $self->{finished};
    $self->{finished} = 1;
    $self->{connected} = 0;
    $self->{reason} = $reason;
    $self->{future}->done($reason) if $self->{future} && !$self->{future}->is_ready;
    my $cbs = delete $self->{on_disconnect};
    delete $self->{on_complete};
    _call($_, $reason) for @{ $cbs || [] };
    return 1;
}

# Successful end: the response reached the client.
sub _complete {
    my ($self) = @_;
    return 0 if $self->{finished};
    $self->{finished} = 1;
    $self->{connected} = 0;
    my $cbs = delete $self->{on_complete};
    delete $self->{on_disconnect};
    _call($_) for @{ $cbs || [] };
    return 1;
}

# A callback that dies must not take the worker or the other callbacks down.
sub _call {
    my ($cb, @args) = @_;
    eval { $cb->(@args); 1 } or warn "pagi-worker-perl: pagi.connection callback died: $@";
}

1;
