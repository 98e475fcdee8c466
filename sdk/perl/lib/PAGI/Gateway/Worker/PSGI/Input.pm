package PAGI::Gateway::Worker::PSGI::Input;
# psgi.input: the request body as it arrives. A read returns what is already
# here; with nothing here it takes the next http.request event from
# $receive, and when that event has not arrived yet it runs the worker's loop
# until it does (PAGI::Gateway::Worker::wait_for). That is how a blocking
# PSGI app reads its body without the worker buffering it first: the loop
# keeps answering heartbeats and reading frames while the app waits.
use strict;
use warnings;

# new(receive => CODE, wait => CODE($future) -> bool)
sub new {
    my ($class, %args) = @_;
    return bless { receive => $args{receive}, wait => $args{wait}, buf => '', eof => 0 }, $class;
}

# Takes one receive event into the buffer; false at the end of the body.
sub _fill {
    my ($self) = @_;
    return 0 if $self->{eof};
    my $f = $self->{receive}->();
    unless ($f->is_ready) {
        $self->{wait}->($f) or do { $self->{eof} = 1; return 0 };
    }
    my ($ev) = $f->is_done ? $f->get : ();
    if (!$ev || ($ev->{type} // '') ne 'http.request') {
        # http.disconnect (client gone) or a failure: the body ends here.
        $self->{eof} = 1;
        $self->{disconnected} = 1;
        return 0;
    }
    $self->{buf} .= $ev->{body} // '';
    $self->{eof} = 1 unless $ev->{more};
    return 1;
}

# read($buf, $len [, $offset]) like IO::Handle::read: bytes read, 0 at EOF.
sub read {
    my ($self, undef, $len, $offset) = @_;
    $len //= 0;
    return 0 if $len <= 0 && !defined $offset;
    $self->_fill until length $self->{buf} || $self->{eof};
    my $chunk = substr($self->{buf}, 0, $len, '');
    $_[1] //= '';
    if (defined $offset) {
        $offset += length $_[1] if $offset < 0;
        $_[1] .= "\0" x ($offset - length $_[1]) if $offset > length $_[1];
        substr($_[1], $offset) = $chunk;
    }
    else {
        $_[1] = $chunk;
    }
    return length $chunk;
}

# Line reads, for apps that treat psgi.input as a filehandle.
sub getline {
    my ($self) = @_;
    my $sep = $/;
    while (1) {
        if (defined $sep && !ref $sep && length $sep) {
            my $i = index($self->{buf}, $sep);
            return substr($self->{buf}, 0, $i + length $sep, '') if $i >= 0;
        }
        elsif (ref $sep && length $self->{buf} >= ${$sep}) {
            return substr($self->{buf}, 0, ${$sep}, '');
        }
        last unless $self->_fill;
    }
    return undef unless length $self->{buf};
    my $rest = $self->{buf};
    $self->{buf} = '';
    return $rest;
}

sub getlines {
    my ($self) = @_;
    my @lines;
    while (defined(my $l = $self->getline)) { push @lines, $l }
    return @lines;
}

# Not seekable: the body streams (psgix.input.buffered is false).
sub seek { return 0 }
sub close { return 1 }

1;
