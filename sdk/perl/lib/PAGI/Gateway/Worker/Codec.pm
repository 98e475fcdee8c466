package PAGI::Gateway::Worker::Codec;
# Pure-Perl Cap'n Proto for exactly protocol/pagi.capnp: stream framing,
# decoding of a frame into a flat hashref, and encoding of a hashref into a
# single-segment frame.
#
# Speed matters (it runs for every event), so at load time this module turns
# the generated offset tables (Layout.pm) into one specialised Perl sub per
# struct and direction -- precomputed unpack/pack templates, no per-field
# method calls, all reads with substr/unpack on the whole buffer. The
# generated source is kept in $SOURCE for debugging.
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
my (%DECODE, %ENCODE, @MEMBER, %FRAME, @DECODE_MEMBER);

sub _fail { die "pagi codec: $_[0]\n" }

# --- pointer readers shared by the generated code ---------------------------

# ($buf, $seg_start, $seg_end, $ptr_pos, $lo, $hi, $is_text) -> bytes
sub _blob {
    my $kind = $_[4] & 3;
    _fail('far pointer (multi-segment messages are not supported)') if $kind == 2;
    _fail('expected a byte list pointer') if $kind != 1 || ($_[5] & 7) != 2;
    my $off = $_[4] >> 2;
    $off -= 0x40000000 if $off & 0x20000000;
    my $count = $_[5] >> 3;
    my $start = $_[3] + 8 + $off * 8;
    _fail('byte list out of bounds') if $start < $_[1] || $start + $count > $_[2];
    return '' if $count == 0;
    # Text carries a NUL terminator that is not part of the value.
    return substr($_[0], $start, $count - 1) if $_[6] && substr($_[0], $start + $count - 1, 1) eq "\0";
    return substr($_[0], $start, $count);
}

# Perl source for reading the byte list a pointer designates, inlined into the
# generated decoders (a sub call per field would double the cost of `open`).
# Expects $_[1]/$_[2] to be the segment bounds.
sub _inline_blob {
    my ($buf, $pos, $lo, $hi, $is_text, $what, $target) = @_;
    my $value = $is_text
        ? "\$c ? substr($buf, \$st, vec($buf, \$st + \$c - 1, 8) ? \$c : \$c - 1) : q()"
        : "substr($buf, \$st, \$c)";
    return join "\n",
        "    _bad_ptr($lo, $hi, '$what') if ($lo & 3) != 1 || ($hi & 7) != 2;",
        "    \$o = $lo >> 2; \$o -= 0x40000000 if \$o & 0x20000000;",
        "    \$st = $pos + 8 + \$o * 8; \$c = $hi >> 3;",
        "    _fail('$what out of bounds') if \$st < \$_[1] || \$st + \$c > \$_[2];",
        "    $target = $value;";
}

sub _bad_ptr {
    my ($lo, $hi, $what) = @_;
    _fail('far pointer (multi-segment messages are not supported)') if ($lo & 3) == 2;
    _fail("$what: expected a byte list pointer");
}

# List(Data) / List(Text): a list of pointers to byte lists -> arrayref.
sub _blob_list {
    my ($buf, $seg_start, $seg_end, $ppos, $lo, $hi, $is_text) = @_;
    my $kind = $lo & 3;
    _fail('far pointer (multi-segment messages are not supported)') if $kind == 2;
    _fail('expected a pointer list') if $kind != 1 || ($hi & 7) != 6;
    my $off = $lo >> 2;
    $off -= 0x40000000 if $off & 0x20000000;
    my $count = $hi >> 3;
    my $start = $ppos + 8 + $off * 8;
    _fail('pointer list out of bounds') if $start < $seg_start || $start + $count * 8 > $seg_end;
    my @w = unpack('V' . ($count * 2), substr($buf, $start, $count * 8));
    my @out;
    my ($o, $st, $c);
    my $ppos2 = $start + 8;
    my $i = 0;
    for my $j (0 .. $count - 1) {
        my ($lo2, $hi2) = ($w[$i], $w[$i + 1]);
        $i += 2;
        if (($lo2 & 3) == 1 && ($hi2 & 7) == 2) {
            $o = $lo2 >> 2;
            $o -= 0x40000000 if $o & 0x20000000;
            $st = $ppos2 + $o * 8;
            $c = $hi2 >> 3;
            _fail('list element out of bounds') if $st < $seg_start || $st + $c > $seg_end;
            push @out, $is_text && $c && !vec($buf, $st + $c - 1, 8) ? substr($buf, $st, $c - 1) : substr($buf, $st, $c);
        }
        elsif ($lo2 || $hi2) { _bad_ptr($lo2, $hi2, 'list element') }
        else { push @out, '' }
        $ppos2 += 8;
    }
    return \@out;
}

# Perl source resolving the struct pointer ($_[3] position, $_[4]/$_[5]
# words, $_[1]/$_[2] segment bounds) into $start, $dw, $pc.
sub _inline_struct_at {
    return join "\n",
        'my ($start, $dw, $pc);',
        '{',
        '    my $kind = $_[4] & 3;',
        '    _struct_at(@_[1 .. 5]) if $kind;    # dies with the right message',
        '    my $off = $_[4] >> 2;',
        '    $off -= 0x40000000 if $off & 0x20000000;',
        '    ($dw, $pc) = ($_[5] & 0xffff, $_[5] >> 16);',
        '    $start = $_[3] + 8 + $off * 8;',
        "    _fail('struct out of bounds') if \$start < \$_[1] || \$start + (\$dw + \$pc) * 8 > \$_[2];",
        '}';
}

# Resolves a struct pointer -> (start, data_words, ptr_count).
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

sub _gen_decoder {
    my ($name) = @_;
    my $s = $L->{$name};
    my ($sdw, $spc) = ($s->{data_words}, $s->{ptr_count});
    my @code = ("sub { # decode $name: (\$buf, \$seg_start, \$seg_end, \$ppos, \$lo, \$hi, \$out)",
        _inline_struct_at(),
        'my $out = $_[6];');
    my (@tmpl, @data_fields);
    for my $f (grep { defined $_->{byte} } @{ $s->{fields} }) {
        my $key = $RENAME{ $f->{name} } // $f->{name};
        my $i = @tmpl;
        if ($f->{kind} eq 'bool') {
            push @tmpl, '@' . $f->{byte} . 'C';
            my $bit = $f->{bit} % 8;
            push @data_fields, "\$out->{'$key'} = (\$d[$i] >> $bit) & 1;";
        }
        elsif ($f->{kind} eq 'enum') {
            push @tmpl, '@' . $f->{byte} . 'v';
            my $names = $ENUM{ $f->{enum} };
            my $list = join ', ', map { "'$_'" } @$names;
            push @data_fields, "\$out->{'$key'} = (($list)[\$d[$i]]) // \$d[$i];";
        }
        else {
            push @tmpl, '@' . $f->{byte} . $INT_CODE{ $f->{kind} };
            push @data_fields, "\$out->{'$key'} = \$d[$i];";
        }
    }
    if (@tmpl) {
        my $bytes = $sdw * 8;
        push @code,
            "my \$data = \$dw >= $sdw ? substr(\$_[0], \$start, $bytes)",
            "    : substr(\$_[0], \$start, \$dw * 8) . (\"\\0\" x ($bytes - \$dw * 8));",
            "my \@d = unpack('" . join('', @tmpl) . "', \$data);",
            @data_fields;
    }
    my @ptr_fields = grep { defined $_->{ptr} } @{ $s->{fields} };
    if (@ptr_fields) {
        push @code,
            "my \$pstart = \$start + \$dw * 8;",
            "my \@p = \$pc >= $spc ? unpack('V" . (2 * $spc) . "', substr(\$_[0], \$pstart, " . (8 * $spc) . "))",
            "    : unpack('V' . (\$pc * 2), substr(\$_[0], \$pstart, \$pc * 8));",
            'my ($o, $st, $c);';
        for my $f (@ptr_fields) {
            my $key = $RENAME{ $f->{name} } // $f->{name};
            my ($lo, $hi) = ("\$p[" . (2 * $f->{ptr}) . ']', "\$p[" . (2 * $f->{ptr} + 1) . ']');
            my $pos = "\$pstart + " . (8 * $f->{ptr});
            my $k = $f->{kind};
            # A pointer beyond the message's pointer section reads as null.
            if ($k eq 'text' || $k eq 'data') {
                push @code, "if ($lo || $hi) {",
                    _inline_blob('$_[0]', $pos, $lo, $hi, $k eq 'text', $key, "\$out->{'$key'}"),
                    "} else { \$out->{'$key'} = q() }";
            }
            elsif ($k eq 'list_data' || $k eq 'list_text') {
                push @code, "\$out->{'$key'} = ($lo || $hi) ? _blob_list(\$_[0], \$_[1], \$_[2], $pos, $lo, $hi, "
                    . ($k eq 'list_text' ? 1 : 0) . ') : [];';
            }
            elsif ($k eq 'struct') {
                push @code, "\$out->{'$key'} = ($lo || $hi) ? \$DECODE{'$f->{struct}'}->(\$_[0], \$_[1], \$_[2], $pos, $lo, $hi, {}) : undef;";
            }
            else { die "codec: unsupported pointer kind $k" }
        }
    }
    push @code, 'return $out;', '}';
    return join "\n", @code;
}

sub _gen_encoder {
    my ($name) = @_;
    my $s = $L->{$name};
    my ($dw, $pc) = ($s->{data_words}, $s->{ptr_count});
    my @code = ("sub { # encode $name: (\$h) -> struct bytes followed by its pointees",
        'my $h = $_[0];');
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
            my %num = map { $names->[$_] => $_ } 0 .. $#$names;
            my $map = join ', ', map { "'$_' => $num{$_}" } @$names;
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
    push @code, "my \$out = pack('$tmpl'" . ($vals ? ", $vals" : '') . ');';
    my @ptr_fields = sort { $a->{ptr} <=> $b->{ptr} } grep { defined $_->{ptr} } @{ $s->{fields} };
    if ($pc) {
        push @code, 'my @ptr = (0) x ' . (2 * $pc) . ';', 'my $tail = q();';
        for my $f (@ptr_fields) {
            my $key = $RENAME{ $f->{name} } // $f->{name};
            my $i = $f->{ptr};
            my $k = $f->{kind};
            # Offset from the pointer word to the end of what is built so far.
            my $off = '(' . ($pc - $i - 1) . ' + length($tail) / 8)';
            if ($k eq 'text' || $k eq 'data') {
                my $prep = $k eq 'text'
                    ? "\$v = _utf8_text(\$v) if \$v =~ /[^\\x00-\\x7f]/; \$v .= \"\\0\";"
                    : "if (utf8::is_utf8(\$v)) { utf8::downgrade(\$v, 1) or _fail('wide character in $key') }";
                push @code,
                    "if (defined(my \$v = \$h->{'$key'})) {",
                    "    if (length \$v) {",
                    "        $prep",
                    '        my $n = length $v;',
                    "        \@ptr[" . (2 * $i) . ', ' . (2 * $i + 1) . "] = (($off << 2) | 1, (\$n << 3) | 2);",
                    '        $tail .= $v;',
                    '        $tail .= "\0" x (8 - ($n & 7)) if $n & 7;',
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
                "        \@ptr[" . (2 * $i) . ', ' . (2 * $i + 1) . "] = (($off << 2) | " . ($k eq 'struct' ? 0 : 1) . ", \$hi);",
                '        $tail .= $blob;',
                '    }',
                '}';
        }
        push @code, "\$out .= pack('V" . (2 * $pc) . "', \@ptr) . \$tail;";
    }
    push @code, 'return $out;', '}';
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

sub _list_blob {
    my ($list, $is_text, $key) = @_;
    _fail("$key must be an array reference") unless ref $list eq 'ARRAY';
    my $n = @$list;
    return unless $n;
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
    return ((($n << 3) | 6), pack('V' . (2 * $n), @ptr) . $tail);
}

sub _struct_blob {
    my ($name, $v, $key) = @_;
    _fail("$key must be a hash reference") unless ref $v eq 'HASH';
    my $s = $L->{$name};
    return ($s->{data_words} | ($s->{ptr_count} << 16), $ENCODE{$name}->($v));
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
    for my $m (@{ $env->{union}{members} }) {
        $MEMBER[ $m->{tag} ] = $m;
        my ($name, $tag, $k) = ($m->{name}, $m->{tag}, $m->{kind});
        # Root pointer (Envelope right after it), Envelope data, event
        # pointer (the event right after it), then the event.
        my $head = "pack('V2 V2 Q<v x6 V2', 0, 4 + (length(\$b) >> 3), 0, 65538, \$_[0]{scope} // 0, $tag";
        if ($k eq 'struct') {
            my $s = $L->{ $m->{struct} };
            my $hi = $s->{data_words} | ($s->{ptr_count} << 16);
            my $enc = $ENCODE{ $m->{struct} };
            $FRAME{$name} = eval "sub { my \$b = \$enc->(\$_[0]); $head, 0, $hi) . \$b }" or die $@;
            my $dec = $DECODE{ $m->{struct} };
            $DECODE_MEMBER[$tag] = sub {
                # A null event struct reads as all defaults.
                return $dec->($_[0], $_[1], $_[2], $_[1], 0xfffffffc, 0, $_[6]) unless $_[4] || $_[5];
                return $dec->(@_);
            };
        }
        elsif ($k eq 'text' || $k eq 'data') {
            my $blob = $k eq 'text' ? \&_text_blob : \&_data_blob;
            $FRAME{$name} = sub {
                my ($hi, $b) = $blob->($_[0]{text} // '', 'text');
                $b //= '';
                return pack('V2 V2 Q<v x6 V2', 0, 4 + (length($b) >> 3), 0, 65538, $_[0]{scope} // 0, $tag,
                    (defined $hi ? (1, $hi) : (0, 0))) . $b;
            };
            my $is_text = $k eq 'text' ? 1 : 0;
            $DECODE_MEMBER[$tag] = sub {
                $_[6]{text} = ($_[4] || $_[5]) ? _blob(@_[0 .. 5], $is_text) : '';
                return $_[6];
            };
        }
        else {
            $FRAME{$name} = sub { pack('V2 V2 Q<v x6 V2', 0, 4, 0, 65538, $_[0]{scope} // 0, $tag, 0, 0) };
            $DECODE_MEMBER[$tag] = sub { $_[6] };
        }
    }
}

# --- decoding -------------------------------------------------------------------

# Decodes the Envelope whose segment 0 spans [$seg_start, $seg_end) of $_[0].
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
    return $dec->($_[0], $seg_start, $seg_end, $ppos, $lo, $hi, { scope => $scope, type => $MEMBER[$tag]{name} });
}

# Takes complete frames off the front of $$bufref, decodes them and returns
# them; a partial frame stays in the buffer. Dies "pagi codec: ..." on a
# malformed or oversized frame.
sub decode_frames {
    my ($bufref, $max_bytes) = @_;
    $max_bytes ||= $DEFAULT_MAX_FRAME_BYTES;
    my $len = length $$bufref;
    my $pos = 0;
    my @msgs;
    while ($len - $pos >= 8) {
        my ($n, $size0) = unpack('V2', substr($$bufref, $pos, 8));
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
        my $seg_start = $pos + $table;
        push @msgs, _decode_envelope($$bufref, $seg_start, $seg_start + $size0 * 8);
        $pos += $table + $total;
    }
    substr($$bufref, 0, $pos, '') if $pos;
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

# Encodes one message hashref into a single-segment frame.
sub encode {
    my $f = $FRAME{ $_[0]{type} // '' }
        or _fail('unknown message type ' . ($_[0]{type} // '(undef)'));
    return $f->($_[0]);
}

1;
