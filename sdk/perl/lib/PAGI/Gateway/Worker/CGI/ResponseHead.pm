package PAGI::Gateway::Worker::CGI::ResponseHead;
# Parses the header block a CGI script writes before its body (RFC 3875
# section 6): fields up to the first empty line (LF or CRLF line ends).
# Status sets the status; Location without Status is a redirect (302);
# everything else is passed on. NPH scripts are not supported.
use strict;
use warnings;

# parse(\$buffer) -> undef while the head is incomplete (nothing consumed);
# otherwise consumes the head and returns { status, headers => [[n, v]...] }
# or { error => why }.
sub parse {
    my ($buf) = @_;
    my $end;
    if ($$buf =~ /\A(.*?)\r?\n\r?\n/s) { $end = $+[0] }
    elsif ($$buf =~ /\A\r?\n/) { $end = $+[0] }
    return undef unless defined $end;
    my $head = substr($$buf, 0, $end, '');
    my ($status, $location, @headers);
    for my $line (split /\r?\n/, $head) {
        next if $line eq '';
        if ($line =~ m{\AHTTP/\d}) { return { error => 'NPH responses (a status line) are not supported' } }
        my ($name, $value) = $line =~ /\A([^:\s]+):[ \t]*(.*?)[ \t]*\z/
            or return { error => "malformed header line from the script: '$line'" };
        my $lc = lc $name;
        if ($lc eq 'status') {
            ($status) = $value =~ /\A(\d{3})\b/ or return { error => "malformed Status header: '$value'" };
            next;
        }
        $location = $value if $lc eq 'location';
        push @headers, [ $lc, $value ];
    }
    $status //= defined $location ? 302 : 200;
    return { error => 'the script sent neither Content-Type, Location nor Status' }
        unless grep({ $_->[0] eq 'content-type' } @headers) || defined $location || $status != 200;
    return { status => 0 + $status, headers => \@headers };
}

1;
