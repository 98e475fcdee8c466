package PAGI::Gateway::Worker::Transport;
# The `pagi.transport` object: outbound flow-control introspection. The
# buffered amount is the response bytes sent to the gateway and not yet
# credited back (they have not reached the client's socket). The high-water
# mark is the send window; on_high_water/on_drain form a hysteresis cycle.
use strict;
use warnings;

sub new {
    my ($class, %args) = @_;
    my $high = $args{high_water_mark};
    return bless {
        buffered => 0,
        high     => $high,
        low      => $args{low_water_mark} // int($high / 2),
        above    => 0,
    }, $class;
}

# new(high_water_mark => N) without the argument list: the hot path's.
sub _new {
    return bless { buffered => 0, high => $_[0], low => int($_[0] / 2), above => 0 }, __PACKAGE__;
}

sub buffered_amount { $_[0]{buffered} }
sub high_water_mark { $_[0]{high} }
sub low_water_mark  { $_[0]{low} }

sub on_high_water {
    my ($self, $cb) = @_;
    push @{ $self->{on_high} }, $cb;
    _call($cb) if $self->{buffered} >= $self->{high};
    return;
}

sub on_drain {
    my ($self, $cb) = @_;
    push @{ $self->{on_drain} }, $cb;
    return;
}

# Called by the scope whenever the buffered amount changes.
sub _set_buffered {
    my ($self, $n) = @_;
    $self->{buffered} = $n;
    if (!$self->{above}) {
        if ($n >= $self->{high}) {
            $self->{above} = 1;
            _call($_) for @{ $self->{on_high} || [] };
        }
    }
    elsif ($n < $self->{low}) {
        $self->{above} = 0;
        _call($_) for @{ $self->{on_drain} || [] };
    }
    return;
}

sub _call {
    my ($cb) = @_;
    eval { $cb->(); 1 } or warn "pagi-worker-perl: pagi.transport callback died: $@";
}

1;
