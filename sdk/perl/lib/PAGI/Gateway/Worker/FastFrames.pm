package PAGI::Gateway::Worker::FastFrames;
# Hand-built frames for the messages every http request sends: the response
# start (with its header list validated and encoded once per distinct list)
# and a successful scopeEnd. They produce exactly the bytes Codec::encode
# produces for the same message (t/11-fast-frames.t compares them); the
# layouts they assume are checked when this module loads, and a layout they
# do not match turns them off (available() is false) rather than producing
# wrong frames. With the XS accelerator (Codec::implementation() 'xs') the
# three functions are its C versions: the same bytes, a header list the C
# code does not find in the cache goes to pure_headers.
use strict;
use warnings;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::Layout;
use PAGI::Gateway::Worker::SendValidator;

my $L = \%PAGI::Gateway::Worker::Layout::STRUCT;
my %TAG = %PAGI::Gateway::Worker::Layout::ENVELOPE_TAG;
my ($START_TAG, $END_TAG) = @TAG{qw(httpResponseStart scopeEnd)};

my $OK = do {
    my %rs = map { $_->{name} => $_ } @{ $L->{ResponseStart}{fields} };
    my %se = map { $_->{name} => $_ } @{ $L->{ScopeEnd}{fields} };
    $L->{ResponseStart}{data_words} == 1 && $L->{ResponseStart}{ptr_count} == 1
        && $rs{status}{byte} == 0 && $rs{status}{kind} eq 'uint16'
        && $rs{trailers}{byte} == 2 && $rs{trailers}{bit} == 16 && $rs{headers}{ptr} == 0
        && $L->{ScopeEnd}{data_words} == 1 && $L->{ScopeEnd}{ptr_count} == 1
        && $se{failed}{byte} == 0 && $se{failed}{bit} == 0 && $se{message}{ptr} == 0
        && defined $START_TAG && defined $END_TAG;
};

sub available { $OK }

# Header lists seen before, keyed by their element count and their elements
# joined with LF: [pointer high word, encoded list] (or [] for no headers).
# Only valid lists get in, and a valid name or value has no LF, so two lists
# with the same key are the same list. Bounded like the codec's list cache.
my %HEADERS;
my $HEADERS_MAX = 512;

# [[name, value], ...] -> [hi, blob] for a valid list of byte strings, or
# undef (the caller takes the validator's path, which raises the precise error).
sub pure_headers {
    my ($list) = @_;
    return unless ref $list eq 'ARRAY';
    my @flat;
    for (@$list) {
        return unless ref $_ eq 'ARRAY' && @$_ == 2;
        push @flat, @$_;
    }
    for (@flat) { return if !defined || ref }
    my $key = join "\n", scalar(@flat), @flat;
    # An LF inside a name or value would shift the pairs: never valid.
    return if utf8::is_utf8($key) || ($key =~ tr/\n//) != @flat;
    my $hit = $HEADERS{$key};
    return $hit if $hit;
    return unless join("\n", @flat, '') =~ $PAGI::Gateway::Worker::SendValidator::PAIRS;
    %HEADERS = () if keys %HEADERS >= $HEADERS_MAX;
    my @enc = @flat ? PAGI::Gateway::Worker::Codec::_list_blob(\@flat, 0, 'headers') : ();
    return $HEADERS{$key} = \@enc;
}

# httpResponseStart frame: scope id, status (200..599), trailers flag,
# headers() result.
sub pure_start_frame {
    my ($id, $status, $trailers, $h) = @_;
    my $blob = @$h ? $h->[1] : '';
    return pack('V2 V2 Q<v x6 V2 v C x5 V2', 0, 6 + (length($blob) >> 3), 0, 65538, $id, $START_TAG,
        0, 65537, $status, $trailers ? 1 : 0, (@$h ? (1, $h->[0]) : (0, 0))) . $blob;
}

# scopeEnd frame of a scope whose app finished without error.
sub pure_scope_end_ok_frame {
    return pack('V2 V2 Q<v x6 V2 V2 V2', 0, 6, 0, 65538, $_[0], $END_TAG, 0, 65537, 0, 0, 0, 0);
}

my $XS = $OK && PAGI::Gateway::Worker::Codec::implementation() eq 'xs' && eval {
    PAGI::Gateway::Worker::XS::_init_frames(\&pure_headers, \%HEADERS, $START_TAG, $END_TAG);
    1;
};
{
    no warnings 'once';
    *headers = $XS ? \&PAGI::Gateway::Worker::XS::headers : \&pure_headers;
    *start_frame = $XS ? \&PAGI::Gateway::Worker::XS::start_frame : \&pure_start_frame;
    *scope_end_ok_frame = $XS ? \&PAGI::Gateway::Worker::XS::scope_end_ok_frame : \&pure_scope_end_ok_frame;
}

1;
