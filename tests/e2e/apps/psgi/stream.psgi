# Streaming writer: writes a first chunk, then blocks reading psgi.input
# until the client sends the request body, then writes the second. The test
# sends that body only after it has seen the first chunk.
use strict;
use warnings;

sub {
    my ($env) = @_;
    if ($env->{PATH_INFO} eq '/echo') {
        # Blocking reads of a streamed body; reply with its size and checksum.
        my ($len, $sum) = (0, 0);
        while (my $n = $env->{'psgi.input'}->read(my $buf, 65536)) { $len += $n; $sum = ($sum + unpack('%32C*', $buf)) % 65536 }
        return [ 200, [ 'Content-Type' => 'text/plain' ], [ "len=$len sum=$sum" ] ];
    }
    return sub {
        my ($respond) = @_;
        my $w = $respond->([ 200, [ 'Content-Type' => 'text/plain' ] ]);
        $w->write("first\n");
        my $got = '';
        while ($env->{'psgi.input'}->read(my $buf, 100)) { $got .= $buf }
        $w->write("second:$got\n");
        $w->close;
    };
};
