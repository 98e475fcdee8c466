package PAGI::Gateway::Worker::SendValidator;
# Checks the events an http app passes to $send and turns them into wire
# messages (hashrefs for Codec::encode, without `scope`). Failing here fails
# the $send at once, as the spec asks; the rules match what the gateway
# checks again (protocol/event_validation.hpp), so a bad event costs the app
# an exception instead of costing the worker its connection.
#
# Missing or mistyped fields and unknown types raise; extra fields are
# ignored. Each validator returns (wire message, body byte count). The sse
# and websocket scopes use its field checks (headers, status, bytes, seconds).
use strict;
use warnings;
use Scalar::Util qw(reftype blessed looks_like_number);
use File::Spec;

our $TOKEN = qr/\A[!#\$%&'*+\-.^_`|~0-9A-Za-z]+\z/;
our $BAD_VALUE = qr/[\x00-\x08\x0a-\x1f\x7f]/;
our $TOKENS = qr/\A[!#\$%&'*+\-.^_`|~0-9A-Za-z]+(?:\0[!#\$%&'*+\-.^_`|~0-9A-Za-z]+)*\z/;
# name LF value LF, repeated: a whole valid header list joined with LF.
our $PAIRS = qr/\A(?:[!#\$%&'*+\-.^_`|~0-9A-Za-z]+\n[^\x00-\x08\x0a-\x1f\x7f]*\n)*\z/;

sub _err { die "pagi-worker-perl: invalid $_[0] event: $_[1]\n" }

sub _int {
    my ($v) = @_;
    return defined $v && !ref $v && $v =~ /\A-?\d+\z/;
}

# A response status (http.response.start, sse.start, the sse and websocket
# http.response denials) -> its number, or raises.
sub status {
    my ($type, $status) = @_;
    _err($type, 'status is required') unless defined $status;
    _err($type, 'status must be an integer') unless _int($status);
    _err($type, "status $status is outside 200..599") if $status < 200 || $status > 599;
    return $status + 0;
}

# Seconds (sse and websocket keepalive) -> whole milliseconds as the wire's
# 32-bit field carries them; a positive value never rounds to 0 (off).
my $MAX_MS = 0xffffffff;

sub seconds_to_ms {
    my ($type, $key, $v) = @_;
    _err($type, "$key must be a non-negative number of seconds")
        unless defined $v && !ref $v && looks_like_number($v) && $v >= 0 && $v == $v;
    my $ms = int($v * 1000 + 0.5);
    $ms = 1 if $ms == 0 && $v > 0;
    _err($type, "$key is too large") if $ms > $MAX_MS;
    return $ms;
}

sub _bytes {
    my ($type, $key, $v) = @_;
    _err($type, "$key must be a byte string") if ref $v;
    if (utf8::is_utf8($v)) {
        my $copy = $v;
        utf8::downgrade($copy, 1) or _err($type, "$key contains wide characters (encode it to bytes first)");
        return $copy;
    }
    return $v;
}

# [[name, value], ...] -> flat list for the wire, or raises.
sub headers {
    my ($type, $headers) = @_;
    return [] unless defined $headers;
    _err($type, 'headers must be an array reference') unless ref $headers eq 'ARRAY';
    # Fast path: well-formed pairs of plain byte strings are checked with one
    # regex over all of them (LF separates: neither a valid name nor a valid
    # value contains one). Anything unusual goes the slow way for a precise error.
    my @flat = map { ref $_ eq 'ARRAY' && @$_ == 2 ? @$_ : (undef, undef) } @$headers;
    if (!grep { !defined || ref } @flat) {
        my $all = join "\n", @flat, '';
        # As many LFs as elements: none inside a name or value (that would
        # shift the pairs and still match).
        return \@flat if !utf8::is_utf8($all) && ($all =~ tr/\n//) == @flat && $all =~ $PAIRS;
    }
    @flat = ();
    for my $h (@$headers) {
        _err($type, 'each header must be a [name, value] array reference')
            unless ref $h eq 'ARRAY' && @$h == 2;
        my ($name, $value) = @$h;
        _err($type, 'header name must be a defined string') unless defined $name && !ref $name;
        _err($type, 'header value must be a defined string') unless defined $value;
        $value = _bytes($type, 'header value', $value);
        _err($type, "header name '$name' is not a valid token (control characters, spaces, separators)")
            unless $name =~ $TOKEN;
        _err($type, "header '$name' value contains CR, LF, NUL or another control character")
            if $value =~ $BAD_VALUE;
        push @flat, $name, $value;
    }
    return \@flat;
}

sub response_start {
    my ($ev) = @_;
    my $type = 'http.response.start';
    return ({ type => 'httpResponseStart', status => status($type, $ev->{status}),
              headers => headers($type, $ev->{headers}), trailers => $ev->{trailers} ? 1 : 0 }, 0);
}

# Returns the wire message for body/file; an `fh` event returns
# ({fh => ...}, 0) for the scope to stream.
sub response_body {
    my ($ev) = @_;
    my $type = 'http.response.body';
    my $n = grep { defined $ev->{$_} } qw(body file fh);
    _err($type, 'body, file and fh are mutually exclusive') if $n > 1;
    for my $k (qw(offset length)) {
        next unless defined $ev->{$k};
        _err($type, "$k must be a non-negative integer") unless _int($ev->{$k}) && $ev->{$k} >= 0;
    }
    if (defined(my $file = $ev->{file})) {
        _err($type, 'file must be a path string') if ref $file || $file eq '';
        my $abs = File::Spec->rel2abs($file);
        open(my $fh, '<', $abs) or die "pagi-worker-perl: http.response.body: cannot open file '$file': $!\n";
        close $fh;
        return ({ type => 'httpResponseBody', file => $abs, offset => $ev->{offset} // 0,
                  length => $ev->{length} // -1, more => 0 }, 0);
    }
    if (defined(my $fh = $ev->{fh})) {
        _err($type, 'fh must be an open filehandle')
            unless (ref $fh && (reftype($fh) // '') eq 'GLOB' || blessed($fh) && $fh->can('read'))
                && defined fileno($fh) ;
        return ({ fh => $fh, offset => $ev->{offset} // 0, length => $ev->{length} }, 0);
    }
    my $body = _bytes($type, 'body', $ev->{body} // '');
    return ({ type => 'httpResponseBody', body => $body, more => $ev->{more} ? 1 : 0 }, length $body);
}

sub response_trailers {
    my ($ev) = @_;
    return ({ type => 'httpResponseTrailers', headers => headers('http.response.trailers', $ev->{headers}) }, 0);
}

sub early_hint {
    my ($ev) = @_;
    return ({ type => 'httpResponseEarlyHint', headers => headers('http.response.early_hint', $ev->{headers}) }, 0);
}

1;
