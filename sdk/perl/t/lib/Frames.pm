package Frames;
# Small readers of the frames a FakeGateway got from the worker, shared by
# the tests: their types, the response body, a response header, and UTF-8
# bytes of a string to compare with.
use strict;
use warnings;
use Exporter 'import';
our @EXPORT_OK = qw(types body_of header utf8_bytes);

sub types { [ map { $_->{type} } @{ $_[0] } ] }

sub body_of { join '', map { $_->{body} // '' } grep { $_->{type} eq 'httpResponseBody' } @{ $_[0] } }

# A header of an httpResponseStart frame (flat name, value list).
sub header {
    my ($start, $name) = @_;
    my $h = $start->{headers};
    for (my $i = 0; $i < @$h; $i += 2) { return $h->[ $i + 1 ] if $h->[$i] eq $name }
    return undef;
}

sub utf8_bytes { my $s = shift; utf8::encode($s); $s }

1;
