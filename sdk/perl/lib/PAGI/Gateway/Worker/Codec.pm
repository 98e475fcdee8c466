package PAGI::Gateway::Worker::Codec;
# Pure-Perl Cap'n Proto for exactly protocol/pagi.capnp: stream framing,
# decoding of a frame into a flat hashref, and encoding of a hashref into a
# single-segment frame. A little over 500 lines: the hot-path decoders and
# encoders are unrolled per struct for speed (docs/benchmarks.md).
#
# Speed matters (it runs for every event), so at load time this module turns
# the generated offset tables (Layout.pm) into one specialised Perl sub per
# struct and direction -- precomputed unpack/pack templates, no per-field
# method calls, all reads with substr/unpack on the whole buffer. The
# generated source is kept in $SOURCE for debugging. decode_frames and
# encode_body_into have C versions in the optional XS accelerator, used when
# it is built (end of this file; docs/perl.md "XS accelerator").
#
# Message shape (both directions):
#   { scope => N, type => 'httpResponseBody', body => '...', more => 1 }
# `type` is the Envelope union member; the member struct's fields sit beside
# it (ScopeOpen.type is renamed scopeType). Members of type Text carry their
# value in `text`. Enums decode to their names (scopeType => 'http') and
# encode from a name or a number. List(Data)/List(Text) are flat arrayrefs;
# a nested struct (ScopeOpen.tls) is a hashref, or undef when null.
use strict;
use warnings;
use PAGI::Gateway::Worker::Layout;

our $VERSION = '0.01';

my $L = \%PAGI::Gateway::Worker::Layout::STRUCT;
my %ENUM = %PAGI::Gateway::Worker::Layout::ENUM;
our %TAG = %PAGI::Gateway::Worker::Layout::ENVELOPE_TAG;

# Field names that would collide with the envelope keys of the flat message.
my %RENAME = (type => 'scopeType', scope => 'scopeId');

# Readers accept any segment count up to this; only segment 0 is used (a far
# pointer into another segment is rejected).
my $MAX_SEGMENTS = 512;
# Default ceiling for one incoming frame; callers pass their own.
our $DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

my %INT_CODE = (
    uint8 => 'C', uint16 => 'v', uint32 => 'V', uint64 => 'Q<',
    int8  => 'c', int16  => 's<', int32 => 'l<', int64 => 'q<', enum => 'v',
);

our $SOURCE = '';
my (%DECODE, %ENCODE, @MEMBER_NAME, %FRAME, @DECODE_MEMBER);

sub _fail { die "pagi codec: $_[0]\n" }

# --- pointer readers shared by the generated code ---------------------------
#
# Pointer words: the generated decoders unpack a pointer's low word signed
# ('l<'), so a byte/pointer list pointer of kind 1 at position P designates
# P + 8 + 8 * (lo >> 2) = P + 6 + 2 * lo without any sign fixing.

# ($buf, $seg_start, $seg_end, $ptr_pos, $lo, $hi, $is_text, $what) -> bytes; $lo unsigned
sub _blob {
    my $kind = $_[4] & 3;
    _fail('far pointer (multi-segment messages are not supported)') if $kind == 2;
    _fail(($_[7] ? "$_[7]: " : '') . 'expected a byte list pointer') if $kind != 1 || ($_[5] & 7) != 2;
    my $off = $_[4] >> 2;
    $off -= 0x40000000 if $off & 0x20000000;
    my $count = $_[5] >> 3;
    my $start = $_[3] + 8 + $off * 8;
    _fail(($_[7] // 'byte list') . ' out of bounds') if $start < $_[1] || $start + $count > $_[2];
    return '' if $count == 0;
    # Text carries a NUL terminator that is not part of the value.
    return substr($_[0], $start, $count - 1) if $_[6] && substr($_[0], $start + $count - 1, 1) eq "\0";
    return substr($_[0], $start, $count);
}

sub _bad_ptr {
    my ($lo, $hi, $what) = @_;
    _fail('far pointer (multi-segment messages are not supported)') if ($lo & 3) == 2;
    _fail("$what: expected a byte list pointer");
}

# List(Data) / List(Text): a list of pointers to byte lists -> arrayref.
# ($buf, $seg_start, $seg_end, $ptr_pos, $lo (signed), $hi, $is_text)
sub _blob_list {
    my ($lo, $hi) = @_[4, 5];
    if (($lo & 3) != 1 || ($hi & 7) != 6) {
        _fail('far pointer (multi-segment messages are not supported)') if ($lo & 3) == 2;
        _fail('expected a pointer list');
    }
    my $count = $hi >> 3;
    my $start = $_[3] + 6 + 2 * $lo;
    _fail('pointer list out of bounds') if $start < $_[1] || $start + $count * 8 > $_[2];
    return [] unless $count;
    my @w = unpack("\@$start(l<V)$count", $_[0]);
    my ($is_text, $seg_start, $seg_end) = @_[6, 1, 2];
    my ($l, $h, $st, $c, @out);
    my $i = 0;
    my $pp = $start + 6;    # element pointer position + 6
    for (1 .. $count) {
        ($l, $h) = ($w[$i], $w[$i + 1]);
        $i += 2;
        if (($l & 3) == 1 && ($h & 7) == 2) {
            $st = $pp + 2 * $l;
            $c = $h >> 3;
            _fail('list element out of bounds') if $st < $seg_start || $st + $c > $seg_end;
            push @out, $is_text && $c && !vec($_[0], $st + $c - 1, 8) ? substr($_[0], $st, $c - 1) : substr($_[0], $st, $c);
        }
        elsif ($l || $h) { _bad_ptr($l, $h, 'list element') }
        else { push @out, '' }
        $pp += 8;
    }
    return \@out;
}

# Resolves a struct pointer ($lo unsigned) -> (start, data_words, ptr_count).
sub _struct_at {
    my ($seg_start, $seg_end, $ppos, $lo, $hi) = @_;
    my $kind = $lo & 3;
    _fail('far pointer (multi-segment messages are not supported)') if $kind == 2;
    _fail('expected a struct pointer') if $kind != 0;
    my $off = $lo >> 2;
    $off -= 0x40000000 if $off & 0x20000000;
    my $dw = $hi & 0xffff;
    my $pc = $hi >> 16;
    my $start = $ppos + 8 + $off * 8;
    _fail('struct out of bounds') if $start < $seg_start || $start + ($dw + $pc) * 8 > $seg_end;
    return ($start, $dw, $pc);
}

# --- code generation ----------------------------------------------------------

# Decoder: ($buf, $seg_start, $seg_end, $ptr_pos, $lo (unsigned), $hi, $out)
# -> $out with the struct's fields; a null pointer reads as all defaults.
sub _gen_decoder {
    my ($name) = @_;
    my $s = $L->{$name};
    my ($sdw, $spc) = ($s->{data_words}, $s->{ptr_count});
    my $nfields = @{ $s->{fields} };
    my @code = ("sub { # decode $name",
        'my $out = $_[6];',
        # Sized once: no rehashing while a big struct (open) fills it in.
        ($nfields > 6 ? ('keys(%$out) = ' . ($nfields + 2) . ';') : ()),
        'my ($start, $dw, $pc) = (0, 0, 0);',
        'if ($_[4] || $_[5]) {',
        '    _struct_at(@_[1 .. 5]) if $_[4] & 3;    # dies with the right message',
        '    my $off = $_[4] >> 2;',
        '    $off -= 0x40000000 if $off & 0x20000000;',
        '    ($dw, $pc) = ($_[5] & 0xffff, $_[5] >> 16);',
        '    $start = $_[3] + 8 + $off * 8;',
        "    _fail('struct out of bounds') if \$start < \$_[1] || \$start + (\$dw + \$pc) * 8 > \$_[2];",
        '}');
    my (@tmpl, @fields);
    for my $f (grep { defined $_->{byte} } @{ $s->{fields} }) {
        my $key = $RENAME{ $f->{name} } // $f->{name};
        my $i = @tmpl;
        if ($f->{kind} eq 'bool') {
            push @tmpl, '@' . $f->{byte} . 'C';
            push @fields, "\$out->{'$key'} = (\$v[$i] >> " . ($f->{bit} % 8) . ') & 1;';
        }
        elsif ($f->{kind} eq 'enum') {
            push @tmpl, '@' . $f->{byte} . 'v';
            my $list = join ', ', map { "'$_'" } @{ $ENUM{ $f->{enum} } };
            push @fields, "\$out->{'$key'} = (($list)[\$v[$i]]) // \$v[$i];";
        }
        else {
            push @tmpl, '@' . $f->{byte} . $INT_CODE{ $f->{kind} };
            push @fields, "\$out->{'$key'} = \$v[$i];";
        }
    }
    # Data fields then the pointer words, in one unpack; a short struct (an
    # older writer) is zero-filled: missing fields and pointers read as defaults.
    my $n = @tmpl;
    my $tmpl = join('', @tmpl) . '@' . ($sdw * 8) . ($spc ? "(l<V)$spc" : '');
    push @code,
        "my \@v = \$dw == $sdw && \$pc >= $spc ? unpack('\@' . \$start . '($tmpl)', \$_[0])",
        "    : unpack('$tmpl', substr(\$_[0], \$start, \$dw < $sdw ? \$dw * 8 : $sdw * 8) . (\"\\0\" x ($sdw * 8 - (\$dw < $sdw ? \$dw * 8 : $sdw * 8)))",
        "        . substr(\$_[0], \$start + \$dw * 8, \$pc < $spc ? \$pc * 8 : $spc * 8) . (\"\\0\" x (8 * ($spc - (\$pc < $spc ? \$pc : $spc)))));",
        @fields;
    my @ptr_fields = grep { defined $_->{ptr} } @{ $s->{fields} };
    push @code, 'my $pstart = $start + $dw * 8;', 'my ($st, $c);' if @ptr_fields;
    for my $f (@ptr_fields) {
        my $key = $RENAME{ $f->{name} } // $f->{name};
        my ($lo, $hi) = ('$v[' . ($n + 2 * $f->{ptr}) . ']', '$v[' . ($n + 2 * $f->{ptr} + 1) . ']');
        my $pos = "\$pstart + " . (8 * $f->{ptr});
        my $k = $f->{kind};
        if ($k eq 'text' || $k eq 'data') {
            # One condition for the usual case (a forward pointer inside the
            # segment); null pointers, backward offsets and errors go to _blob.
            my $value = $k eq 'text'
                ? "\$c ? substr(\$_[0], \$st, vec(\$_[0], \$st + \$c - 1, 8) ? \$c : \$c - 1) : q()"
                : "substr(\$_[0], \$st, \$c)";
            push @code,
                "if ($lo > 0 && ($lo & 3) == 1 && ($hi & 7) == 2",
                "    && (\$st = $pos + 6 + 2 * $lo) + (\$c = $hi >> 3) <= \$_[2]) { \$out->{'$key'} = $value }",
                "else { \$out->{'$key'} = ($lo || $hi) ? _blob(\$_[0], \$_[1], \$_[2], $pos, $lo & 0xffffffff, $hi, "
                    . ($k eq 'text' ? 1 : 0) . ", '$key') : q() }";
        }
        elsif ($k eq 'list_data' || $k eq 'list_text') {
            push @code, "\$out->{'$key'} = ($lo || $hi) ? _blob_list(\$_[0], \$_[1], \$_[2], $pos, $lo, $hi, "
                . ($k eq 'list_text' ? 1 : 0) . ') : [];';
        }
        elsif ($k eq 'struct') {
            push @code, "\$out->{'$key'} = ($lo || $hi) ? \$DECODE{'$f->{struct}'}->(\$_[0], \$_[1], \$_[2], $pos, $lo & 0xffffffff, $hi, {}) : undef;";
        }
        else { die "codec: unsupported pointer kind $k" }
    }
    push @code, 'return $out;', '}';
    return join "\n", @code;
}

# Encoder: ($h) -> ($tail_bytes, $head, @tail): the struct's data and
# pointer sections, then the pieces its pointers designate (kept apart so a
# body is copied once, into the output buffer).
sub _gen_encoder {
    my ($name) = @_;
    my $s = $L->{$name};
    my ($dw, $pc) = ($s->{data_words}, $s->{ptr_count});
    my @code = ("sub { # encode $name", 'my $h = $_[0];');
    # Data section: fields sorted by byte so '@' only moves forward; bools
    # sharing a byte are OR-ed together first.
    my (%bool_byte, @parts);
    for my $f (grep { defined $_->{byte} } @{ $s->{fields} }) {
        my $key = $RENAME{ $f->{name} } // $f->{name};
        if ($f->{kind} eq 'bool') {
            push @{ $bool_byte{ $f->{byte} } }, "(\$h->{'$key'} ? " . (1 << ($f->{bit} % 8)) . " : 0)";
        }
        elsif ($f->{kind} eq 'enum') {
            my $names = $ENUM{ $f->{enum} };
            my $map = join ', ', map { "'$names->[$_]' => $_" } 0 .. $#$names;
            push @parts, [$f->{byte}, 'v', "_enum(\$h->{'$key'}, {$map}, '$key')"];
        }
        else {
            push @parts, [$f->{byte}, $INT_CODE{ $f->{kind} }, "(\$h->{'$key'} // 0)"];
        }
    }
    push @parts, [$_, 'C', join(' | ', @{ $bool_byte{$_} })] for keys %bool_byte;
    @parts = sort { $a->[0] <=> $b->[0] } @parts;
    my $tmpl = join('', map { '@' . $_->[0] . $_->[1] } @parts) . '@' . ($dw * 8);
    my $vals = join ', ', map { $_->[2] } @parts;
    push @code, "my \$head = pack('$tmpl'" . ($vals ? ", $vals" : '') . ');', 'my ($tl, @t) = (0);';
    my @ptr_fields = sort { $a->{ptr} <=> $b->{ptr} } grep { defined $_->{ptr} } @{ $s->{fields} };
    if ($pc) {
        push @code, 'my @ptr = (0) x ' . (2 * $pc) . ';';
        for my $f (@ptr_fields) {
            my $key = $RENAME{ $f->{name} } // $f->{name};
            my ($i, $k) = ($f->{ptr}, $f->{kind});
            # Offset from the pointer word to the end of what is built so far.
            my $off = '(' . ($pc - $i - 1) . ' + ($tl >> 3))';
            my $slots = '@ptr[' . (2 * $i) . ', ' . (2 * $i + 1) . ']';
            if ($k eq 'text' || $k eq 'data') {
                my $prep = $k eq 'text'
                    ? "\$v = _utf8_text(\$v) if \$v =~ /[^\\x00-\\x7f]/; \$v .= \"\\0\";"
                    : "if (utf8::is_utf8(\$v)) { utf8::downgrade(\$v, 1) or _fail('wide character in $key') }";
                push @code,
                    "if (defined(my \$v = \$h->{'$key'})) {",
                    "    if (length \$v) {",
                    "        $prep",
                    '        my $n = length $v;',
                    "        $slots = (($off << 2) | 1, (\$n << 3) | 2);",
                    '        push @t, $v;',
                    '        $tl += $n;',
                    '        if ($n & 7) { push @t, "\0" x (8 - ($n & 7)); $tl += 8 - ($n & 7) }',
                    '    }',
                    '}';
                next;
            }
            my $call =
                  $k eq 'list_data' ? "_list_blob(\$v, 0, '$key')"
                : $k eq 'list_text' ? "_list_blob(\$v, 1, '$key')"
                : $k eq 'struct'    ? "_struct_blob('$f->{struct}', \$v, '$key')"
                : die "codec: unsupported pointer kind $k";
            push @code,
                "if (defined(my \$v = \$h->{'$key'})) {",
                "    if (my (\$hi, \$blob) = $call) {",
                "        $slots = (($off << 2) | " . ($k eq 'struct' ? 0 : 1) . ", \$hi);",
                '        push @t, $blob;',
                '        $tl += length $blob;',
                '    }',
                '}';
        }
        push @code, "\$head .= pack('V" . (2 * $pc) . "', \@ptr);";
    }
    push @code, 'return ($tl, $head, @t);', '}';
    return join "\n", @code;
}

sub _enum {
    my ($v, $map, $key) = @_;
    return 0 unless defined $v;
    return $v if $v =~ /^\d+\z/;
    return $map->{$v} // _fail("unknown value '$v' for $key");
}

sub _pad { my $r = length($_[0]) % 8; $r ? $_[0] . ("\0" x (8 - $r)) : $_[0] }

# The wire wants UTF-8 text: characters are encoded; bytes that already are
# UTF-8 pass; other bytes are taken as Latin-1 characters.
sub _utf8_text {
    my ($v) = @_;
    if (utf8::is_utf8($v)) { utf8::encode($v) }
    elsif (!utf8::decode(my $probe = $v)) { utf8::upgrade($v); utf8::encode($v) }
    return $v;
}

# Each returns (pointer high word, blob) or an empty list for a null pointer.
sub _text_blob {
    my ($v, $key) = @_;
    return if $v eq '';
    $v = _utf8_text($v) if $v =~ /[^\x00-\x7f]/;
    return ((((length($v) + 1) << 3) | 2), _pad($v . "\0"));
}

sub _data_blob {
    my ($v, $key) = @_;
    return if $v eq '';
    if (utf8::is_utf8($v)) { utf8::downgrade($v, 1) or _fail("wide character in $key") }
    return (((length($v) << 3) | 2), _pad($v));
}

# Encoded lists by content: apps send the same response header sets over
# and over. The key is length-prefixed, so it is unambiguous.
my %LIST_CACHE;
my $LIST_CACHE_ENTRIES = 512;

sub _list_blob {
    my ($list, $is_text, $key) = @_;
    _fail("$key must be an array reference") unless ref $list eq 'ARRAY';
    my $n = @$list;
    return unless $n;
    my $ck = do { no warnings 'uninitialized'; pack('C(N/a*)*', $is_text, @$list) };
    my $cacheable = !utf8::is_utf8($ck);
    if ($cacheable) {
        my $hit = $LIST_CACHE{$ck};
        return @$hit if $hit;
    }
    my @ptr;
    my $tail = '';
    my $back = $n;    # words from the next element pointer to the list end
    for my $v (@$list) {
        $back--;
        if (!defined $v || $v eq '') { push @ptr, 0, 0; next }
        my $b = $v;
        if ($is_text) { $b = _utf8_text($b) if $b =~ /[^\x00-\x7f]/; $b .= "\0" }
        elsif (utf8::is_utf8($b)) { utf8::downgrade($b, 1) or _fail("wide character in $key") }
        my $len = length $b;
        push @ptr, (($back + (length($tail) >> 3)) << 2) | 1, ($len << 3) | 2;
        $tail .= $b;
        $tail .= "\0" x (8 - ($len & 7)) if $len & 7;
    }
    my @r = ((($n << 3) | 6), pack('V' . (2 * $n), @ptr) . $tail);
    if ($cacheable) {
        %LIST_CACHE = () if keys %LIST_CACHE >= $LIST_CACHE_ENTRIES;
        $LIST_CACHE{$ck} = \@r;
    }
    return @r;
}

sub _struct_blob {
    my ($name, $v, $key) = @_;
    _fail("$key must be a hash reference") unless ref $v eq 'HASH';
    my $s = $L->{$name};
    my ($tl, @parts) = $ENCODE{$name}->($v);
    return ($s->{data_words} | ($s->{ptr_count} << 16), join '', @parts);
}

{
    my @src;
    for my $name (sort keys %$L) {
        next if $name eq 'Envelope';
        push @src, "\$DECODE{'$name'} = " . _gen_decoder($name) . ";\n",
                   "\$ENCODE{'$name'} = " . _gen_encoder($name) . ";\n";
    }
    $SOURCE = join '', @src;
    eval "$SOURCE; 1" or die "pagi codec: generated code failed to compile: $@";
    my $env = $L->{Envelope};
    _fail('Envelope layout changed: expected 2 data words and 1 pointer')
        unless $env->{data_words} == 2 && $env->{ptr_count} == 1
            && $env->{union}{tag_byte} == 8 && $env->{fields}[0]{byte} == 0;
    # Frame writers append one message to the buffer $_[0] refers to:
    # segment table, root pointer (the Envelope right after it), Envelope
    # data, event pointer (the event right after it), then the event.
    for my $m (@{ $env->{union}{members} }) {
        my ($name, $tag, $k) = ($m->{name}, $m->{tag}, $m->{kind});
        $MEMBER_NAME[$tag] = $name;
        if ($k eq 'struct') {
            my $s = $L->{ $m->{struct} };
            my $hi = $s->{data_words} | ($s->{ptr_count} << 16);
            my $enc = $ENCODE{ $m->{struct} };
            $FRAME{$name} = sub {
                my ($tl, $head, @t) = $enc->($_[1]);
                ${ $_[0] } .= pack('V2 V2 Q<v x6 V2', 0, 4 + ((length($head) + $tl) >> 3), 0, 65538,
                                   $_[1]{scope} // 0, $tag, 0, $hi) . $head;
                ${ $_[0] } .= $_ for @t;
                return;
            };
            $DECODE_MEMBER[$tag] = $DECODE{ $m->{struct} };
        }
        elsif ($k eq 'text' || $k eq 'data') {
            my $blob = $k eq 'text' ? \&_text_blob : \&_data_blob;
            $FRAME{$name} = sub {
                my ($hi, $b) = $blob->($_[1]{text} // '', 'text');
                $b //= '';
                ${ $_[0] } .= pack('V2 V2 Q<v x6 V2', 0, 4 + (length($b) >> 3), 0, 65538, $_[1]{scope} // 0, $tag,
                    (defined $hi ? (1, $hi) : (0, 0))) . $b;
                return;
            };
            my $is_text = $k eq 'text' ? 1 : 0;
            $DECODE_MEMBER[$tag] = sub {
                $_[6]{text} = ($_[4] || $_[5]) ? _blob(@_[0 .. 5], $is_text) : '';
                return $_[6];
            };
        }
        else {
            $FRAME{$name} = sub { ${ $_[0] } .= pack('V2 V2 Q<v x6 V2', 0, 4, 0, 65538, $_[1]{scope} // 0, $tag, 0, 0); return };
            $DECODE_MEMBER[$tag] = sub { $_[6] };
        }
    }
    _fast_response_body();
}

# The streaming hot path: a plain body event (no file, offset or length)
# written without the generic machinery; the body is copied once.
my $BODY_TAG = $TAG{httpResponseBody};

sub _fast_response_body {
    my $s = $L->{ResponseBody};
    my %f = map { $_->{name} => $_ } @{ $s->{fields} };
    _fail('ResponseBody layout changed')
        unless $s->{data_words} == 4 && $s->{ptr_count} == 2 && $f{more}{byte} == 0 && $f{more}{bit} == 0
            && $f{body}{ptr} == 0 && $f{file}{ptr} == 1 && $f{offset}{byte} == 8 && $f{length}{byte} == 16
            && $f{ringLength}{byte} == 4 && $f{ringPosition}{byte} == 24;
    my $generic = $FRAME{httpResponseBody};
    $FRAME{httpResponseBody} = sub {
        my $m = $_[1];
        return &$generic if defined $m->{file} || $m->{offset} || $m->{length} || $m->{ringLength};
        encode_body_into($_[0], $m->{scope} // 0, $m->{body} // '', $m->{more});
    };
}

# encode_body_into(\$buf, $scope_id, $body, $more): appends an
# httpResponseBody frame; the same bytes as encode_into with such a message.
# (The XS accelerator's version replaces it when loaded; see the end.)
sub pure_encode_body_into {
    my $n = length $_[2];
    my $pad = (8 - ($n & 7)) & 7;
    if ($n && utf8::is_utf8($_[2])) {
        my $body = $_[2];
        utf8::downgrade($body, 1) or _fail('wide character in body');
        return pure_encode_body_into($_[0], $_[1], $body, $_[3]);
    }
    ${ $_[0] } .= pack('V2 V2 Q<v x6 V2 C x31 V4', 0, 10 + (($n + $pad) >> 3), 0, 65538, $_[1], $BODY_TAG,
        0, 4 | (2 << 16), $_[3] ? 1 : 0, ($n ? (5, ($n << 3) | 2) : (0, 0)), 0, 0);
    if ($n) {
        ${ $_[0] } .= $_[2];
        ${ $_[0] } .= "\0" x $pad if $pad;
    }
    return;
}

# --- decoding -------------------------------------------------------------------

# Decodes the Envelope whose segment 0 spans [$seg_start, $seg_end) of $_[0]
# (any layout; decode_frames reads the canonical one itself).
sub _decode_envelope {
    my ($seg_start, $seg_end) = @_[1, 2];
    _fail('empty segment') if $seg_end - $seg_start < 8;
    my ($rlo, $rhi) = unpack('V2', substr($_[0], $seg_start, 8));
    my ($start, $dw, $pc) = _struct_at($seg_start, $seg_end, $seg_start, $rlo, $rhi);
    my ($scope, $tag) = (0, 0);
    if ($dw >= 2) { ($scope, $tag) = unpack('Q<v', substr($_[0], $start, 10)) }
    elsif ($dw == 1) { ($scope) = unpack('Q<', substr($_[0], $start, 8)) }
    my $dec = $DECODE_MEMBER[$tag] or _fail("unknown union tag $tag");
    my $ppos = $start + $dw * 8;
    my ($lo, $hi) = $pc ? unpack('V2', substr($_[0], $ppos, 8)) : (0, 0);
    return $dec->($_[0], $seg_start, $seg_end, $ppos, $lo, $hi, { scope => $scope, type => $MEMBER_NAME[$tag] });
}

# Takes complete frames off the front of $$bufref, decodes them and returns
# them; a partial frame stays in the buffer. Dies "pagi codec: ..." on a
# malformed or oversized frame (the buffer is then left as it was).
# (The XS accelerator's version replaces it when loaded; see the end.)
sub pure_decode_frames {
    my ($bufref, $max_bytes) = @_;
    $max_bytes ||= $DEFAULT_MAX_FRAME_BYTES;
    my $len = length $$bufref;
    my $pos = 0;
    my @msgs;
    while ($len - $pos >= 8) {
        my ($n, $size0) = unpack("\@$pos V2", $$bufref);
        my ($table, $total);
        if ($n == 0) {
            ($table, $total) = (8, $size0 * 8);
        }
        else {
            $n += 1;
            _fail("too many segments ($n)") if $n > $MAX_SEGMENTS;
            $table = 4 + 4 * $n;
            $table += 4 if $table % 8;
            last if $len - $pos < $table;
            my @sizes = unpack("V$n", substr($$bufref, $pos + 4, 4 * $n));
            $total = 0;
            $total += $_ * 8 for @sizes;
        }
        _fail("frame of " . ($table + $total) . " bytes over the limit of $max_bytes")
            if $table + $total > $max_bytes;
        last if $len - $pos < $table + $total;
        my $ss = $pos + $table;
        my ($rlo, $rhi, $scope, $tag, $lo, $hi) = $size0 >= 4 ? unpack("\@$ss V2 Q<v x6 V2", $$bufref) : ();
        if (defined $rlo && $rlo == 0 && $rhi == 65538) {
            # What every Cap'n Proto writer produces: the root pointer points
            # at the next word, an Envelope of 2 data words and 1 pointer.
            my $dec = $DECODE_MEMBER[$tag] or _fail("unknown union tag $tag");
            push @msgs, $dec->($$bufref, $ss, $ss + $size0 * 8, $ss + 24, $lo, $hi,
                               { scope => $scope, type => $MEMBER_NAME[$tag] });
        }
        else {
            push @msgs, _decode_envelope($$bufref, $ss, $ss + $size0 * 8);
        }
        $pos += $table + $total;
    }
    # All consumed (the usual case): emptied in place, keeping the memory;
    # cutting the front would leave an offset that the next read into the
    # buffer's end has to move back.
    if ($pos == $len) { $$bufref = '' }
    elsif ($pos) { substr($$bufref, 0, $pos, '') }
    return @msgs;
}

# Decodes exactly one whole frame.
sub decode {
    my ($frame) = @_;
    my $buf = $frame;
    my @m = decode_frames(\$buf, length($frame) + 8);
    _fail('incomplete frame') unless @m == 1 && $buf eq '';
    return $m[0];
}

# --- encoding -------------------------------------------------------------------

# Appends one message hashref, as a single-segment frame, to $$bufref: the
# worker's output buffer, so a body is copied once on its way out.
sub encode_into {
    my $f = $FRAME{ $_[1]{type} // '' }
        or _fail('unknown message type ' . ($_[1]{type} // '(undef)'));
    $f->($_[0], $_[1]);
    return;
}

# Encodes one message hashref into a single-segment frame.
sub encode {
    my $f = $FRAME{ $_[0]{type} // '' }
        or _fail('unknown message type ' . ($_[0]{type} // '(undef)'));
    my $out = '';
    $f->(\$out, $_[0]);
    return $out;
}

# --- the compiled accelerator ---------------------------------------------------
#
# When PAGI::Gateway::Worker::XS loads (docs/perl.md "XS accelerator"),
# decode_frames and encode_body_into are its C versions, driven by the same
# Layout.pm tables as the generated Perl code above (handed over here, so the
# C code cannot drift from the schema); otherwise they are the pure ones.
# implementation() says which.

# [data_words, ptr_count, [[key, kind, byte, bit, ptr, enum names, struct index]...]]
# per struct (data fields, then pointer fields: the pure decoders' store
# order), and [name, kind, struct index] per Envelope union tag.
sub _xs_tables {
    my @names = sort keys %$L;
    my %index = map { $names[$_] => $_ } 0 .. $#names;
    my @structs = map {
        my $s = $L->{$_};
        my @f = ((grep { defined $_->{byte} } @{ $s->{fields} }), (grep { defined $_->{ptr} } @{ $s->{fields} }));
        [ $s->{data_words}, $s->{ptr_count}, [ map {
            [ $RENAME{ $_->{name} } // $_->{name}, $_->{kind}, $_->{byte} // 0, $_->{bit} // 0, $_->{ptr} // 0,
              ($_->{kind} eq 'enum' ? $ENUM{ $_->{enum} } : undef), ($_->{kind} eq 'struct' ? $index{ $_->{struct} } : -1) ]
        } @f ] ]
    } @names;
    my @members;
    for my $m (@{ $L->{Envelope}{union}{members} }) {
        $members[ $m->{tag} ] = [ $m->{name}, $m->{kind}, $m->{kind} eq 'struct' ? $index{ $m->{struct} } : -1 ];
    }
    return (\@structs, \@members);
}

my $XS = 0;
{
    require PAGI::Gateway::Worker::XS;
    if (PAGI::Gateway::Worker::XS::load()) {
        $XS = eval {
            PAGI::Gateway::Worker::XS::_init_codec(_xs_tables(), \&pure_decode_frames,
                'PAGI::Gateway::Worker::Codec::DEFAULT_MAX_FRAME_BYTES', \&pure_encode_body_into, $BODY_TAG);
            1;
        };
        warn "PAGI::Gateway::Worker::Codec: XS accelerator not used: $@" unless $XS;
    }
    no warnings 'once';
    *decode_frames = $XS ? \&PAGI::Gateway::Worker::XS::decode_frames : \&pure_decode_frames;
    *encode_body_into = $XS ? \&PAGI::Gateway::Worker::XS::encode_body_into : \&pure_encode_body_into;
}

# 'xs' or 'pure': which codec this process runs.
sub implementation { $XS ? 'xs' : 'pure' }

1;
