package PAGI::Gateway::Worker::PSGI::Writer;
# The streaming writer a delayed PSGI response gets when its responder is
# called with [status, headers]. Every write leaves for the gateway at once
# (the worker's output is flushed), so the client sees each chunk as it is
# written even when the app blocks between writes; a write beyond the send
# window waits for credit by running the loop. close ends the body; writes
# after close are ignored with a warning.
use strict;
use warnings;
use Carp ();

# new(send => CODE, wait => CODE($f), flush => CODE, done => Future)
sub new {
    my ($class, %args) = @_;
    return bless { %args, closed => 0 }, $class;
}

sub write {
    my ($self, $chunk) = @_;
    if ($self->{closed}) {
        Carp::carp('pagi-worker-perl: PSGI writer: write after close ignored');
        return;
    }
    return unless defined $chunk && length $chunk;
    utf8::downgrade($chunk, 1)
        or Carp::croak('pagi-worker-perl: PSGI writer: wide character in write (encode the body to bytes)');
    $self->_push({ type => 'http.response.body', body => $chunk, more => 1 });
    return 1;
}

sub close {
    my ($self) = @_;
    return if $self->{closed};
    $self->{closed} = 1;
    my $f = $self->_push({ type => 'http.response.body', body => '', more => 0 });
    $self->{done}->done unless $self->{done}->is_ready;
    return;
}

# psgix writers may offer poll_cb; ours calls it once, synchronously.
sub poll_cb {
    my ($self, $cb) = @_;
    $cb->($self);
}

sub _push {
    my ($self, $event) = @_;
    my $f = $self->{send}->($event);
    $self->{wait}->($f) unless $f->is_ready;
    $self->{flush}->();
    if ($f->is_failed) {
        my ($err) = $f->failure;
        # The client left: the rest of the body has nowhere to go.
        $self->{closed} = 1;
        $self->{done}->done unless $self->{done}->is_ready;
        Carp::carp("pagi-worker-perl: PSGI writer: $err");
    }
    return $f;
}

sub DESTROY {
    my ($self) = @_;
    return if $self->{closed} || ${^GLOBAL_PHASE} eq 'DESTRUCT';
    # A writer dropped without close: end the body so the exchange finishes.
    $self->close;
}

1;
