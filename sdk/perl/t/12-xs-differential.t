# The XS accelerator against the pure-Perl codec, in one process: every
# message type, every cut of a frame stream, thousands of mutated, truncated
# and random frames decode to identical messages (down to number/string
# flags) or die with identical errors, leaving identical buffers; encoded
# frames are byte-identical. Skipped when the accelerator is not built,
# unless PAGI_TEST_REQUIRE_XS=1 (the perl_sdk_xs ctest entry sets it).
use strict;
use warnings;
use Test2::V0;
use B ();
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::FastFrames;
use PAGI::Gateway::Worker::Layout;

my $C = 'PAGI::Gateway::Worker::Codec';
if ($C->can('implementation')->() ne 'xs') {
    my $why = $PAGI::Gateway::Worker::XS::WHY || 'not loaded';
    if ($ENV{PAGI_TEST_REQUIRE_XS}) { fail("the XS accelerator is required here: $why"); done_testing; exit }
    skip_all "XS accelerator not in use: $why";
}
my $pure = \&PAGI::Gateway::Worker::Codec::pure_decode_frames;
my $xs = \&PAGI::Gateway::Worker::XS::decode_frames;
my $encode = \&PAGI::Gateway::Worker::Codec::encode;
my $L = \%PAGI::Gateway::Worker::Layout::STRUCT;
my %ENUM = %PAGI::Gateway::Worker::Layout::ENUM;

srand($ENV{PAGI_TEST_SEED} // 20261201);
note 'seed ' . ($ENV{PAGI_TEST_SEED} // 20261201);

# A canonical dump that tells strings from numbers and keeps UTF-8 flags.
sub dump_v {
    my ($v) = @_;
    return 'undef' unless defined $v;
    if (ref $v eq 'HASH') { return '{' . join(',', map { "$_=>" . dump_v($v->{$_}) } sort keys %$v) . '}' }
    if (ref $v eq 'ARRAY') { return '[' . join(',', map { dump_v($_) } @$v) . ']' }
    my $f = B::svref_2object(\$v)->FLAGS;
    my $t = $f & B::SVf_POK ? 's' : $f & (B::SVf_IOK | B::SVf_NOK) ? 'n' : '?';
    $t .= 'u' if $f & B::SVf_UTF8;
    my $s = "$v";
    utf8::encode($s) if utf8::is_utf8($s);
    return "$t:" . unpack('H*', $s);
}

# Both decoders on a copy of $bytes: "ok <messages> rest <buffer>" or "die <error> rest <buffer>".
sub run_one {
    my ($f, $bytes, @max) = @_;
    my $buf = $bytes;
    my @m = eval { $f->(\$buf, @max) };
    return ($@ ? "die $@" : 'ok ' . dump_v(\@m)) . ' rest ' . unpack('H*', $buf);
}

my ($compared, %outcome) = (0);
sub same {
    my ($bytes, $what, @max) = @_;
    my ($p, $x) = (run_one($pure, $bytes, @max), run_one($xs, $bytes, @max));
    $compared++;
    $outcome{ $p =~ /^die pagi codec: ([a-z ]+)/ ? $1 : $p =~ /^die/ ? 'other error' : 'decoded' }++;
    return 1 if $p eq $x;
    fail($what);
    diag "frame " . unpack('H*', $bytes) . "\npure: " . substr($p, 0, 400) . "\nxs:   " . substr($x, 0, 400);
    return 0;
}

# --- a filled-in message of every Envelope member -----------------------------
my %RENAME = (type => 'scopeType', scope => 'scopeId');
my @strings = ('', 'a', "caf\xc3\xa9", "bin\0\xff", 'x' x 7, 'y' x 8, 'z' x 9, 'w' x 300);
sub value_of {
    my ($f) = @_;
    my $k = $f->{kind};
    return int(rand 2) if $k eq 'bool';
    return int(rand 2**(8 * ({ uint8 => 1, uint16 => 2, uint32 => 4, uint64 => 6 }->{$k} // 1))) if $k =~ /^uint/;
    return int(rand 200) - 100 if $k =~ /^int/;
    return $ENUM{ $f->{enum} }[ rand @{ $ENUM{ $f->{enum} } } ] if $k eq 'enum';
    return $strings[ rand @strings ] if $k eq 'text' || $k eq 'data';
    return [ map { $strings[ rand @strings ] } 1 .. int(rand 5) ] if $k =~ /^list_/;
    return rand() < 0.3 ? undef : fill($f->{struct}) if $k eq 'struct';
    return;
}
sub fill {
    my ($name) = @_;
    my %h;
    for my $f (@{ $L->{$name}{fields} }) {
        next if $f->{kind} eq 'void';
        $h{ $RENAME{ $f->{name} } // $f->{name} } = value_of($f);
    }
    return \%h;
}
my @frames;
for my $m (sort { $a->{tag} <=> $b->{tag} } @{ $L->{Envelope}{union}{members} }) {
    for (1 .. 4) {
        my %msg = (scope => int(rand 2**40), type => $m->{name});
        %msg = (%{ fill($m->{struct}) }, %msg) if $m->{kind} eq 'struct';
        $msg{text} = $strings[ rand @strings ] if $m->{kind} eq 'text' || $m->{kind} eq 'data';
        push @frames, $encode->(\%msg);
    }
    push @frames, $encode->({ scope => 1, type => $m->{name} });    # all defaults
}
ok same($_, 'a message of every type') for @frames;
# The hot messages exactly as the gateway sends them.
push @frames, $encode->({ scope => 42, type => 'open', scopeType => 'http', httpVersion => '1.1', method => 'GET',
    scheme => 'http', path => '/', rawPath => '/', headers => [ 'host', 'localhost:8080', 'accept', '*/*' ],
    clientHost => '127.0.0.1', clientPort => 54321, serverHost => '127.0.0.1', serverPort => 8080 });

subtest 'a stream cut anywhere' => sub {
    my $stream = join '', @frames[ 0 .. 30 ];
    my $ok = 1;
    for my $cut (0 .. length($stream)) { $ok &&= same(substr($stream, 0, $cut), "cut at $cut") }
    ok $ok, 'every prefix of ' . length($stream) . ' bytes';
    ok same($stream, 'the whole stream') && same($stream, 'a small limit', 64) && same($stream, 'a limit', '1e3'),
        'limits';
};

subtest 'other layouts' => sub {
    # Multi-segment tables, a root pointer elsewhere, short and long structs.
    my $f = $encode->({ scope => 9, type => 'credit', bytes => 77 });
    my $body = substr($f, 8);
    my $words = length($body) / 8;
    ok same(pack('V V V V', 1, $words, 0, 0) . $body, 'two segments, the second empty');
    ok same(pack('V V V x4', 1, $words, 1) . $body . ("\0" x 8), 'two segments');
    ok same(pack('V V', 600, 1) . ("\0" x 4000), 'too many segments');
    # The Envelope one word further: root pointer offset 1.
    my ($rlo, $rhi) = unpack('V2', $body);
    ok same(pack('V2', 0, $words + 1) . pack('V2', 4, $rhi) . ("\0" x 8) . substr($body, 8), 'root pointer offset 1');
    # An Envelope with one data word (no tag) and no pointer: a hello.
    ok same(pack('V2', 0, 2) . pack('V2', 0, 1) . pack('Q<', 5), 'Envelope of 1 data word');
    ok same(pack('V2', 0, 1) . pack('V2', 0, 0), 'null root');
    ok same(pack('V2', 0, 0), 'empty segment');
};

# --- mutations ------------------------------------------------------------------
my @interesting = (0, 1, 2, 3, 4, 5, 6, 0xfffffffc, 0xfffffffd, 0xffffffff, 0x7ffffffd, 0x80000001, 0x10001, 0x20003,
    65538, 0x200, 0x1000a, (8 << 3) | 2, (1 << 29) | 2, 0xfffffff6, 0xfffffffe);
subtest 'mutated, truncated and random frames' => sub {
    my $ok = 1;
    my $n = $ENV{PAGI_TEST_MUTATIONS} // 6000;
    for my $i (1 .. $n) {
        my $f = $frames[ rand @frames ];
        $f .= $frames[ rand @frames ] if rand() < 0.2;
        my $mut = $f;
        my $r = rand;
        my $edits = 1 + int(rand 4);
        for (1 .. $edits) {
            my $len = length $mut;
            last if $len < 4;
            if ($r < 0.35) { substr($mut, int(rand $len), 1, chr(int rand 256)) }
            elsif ($r < 0.75) {
                my $at = 4 * int(rand($len / 4));
                substr($mut, $at, 4, pack('V', $interesting[ rand @interesting ])) if $at + 4 <= $len;
            }
            elsif ($r < 0.85) { $mut = substr($mut, 0, int(rand $len)) }
            elsif ($r < 0.95) { $mut .= join '', map { chr(int rand 256) } 1 .. int(rand 40) }
            else { $mut = pack('V2', 0, int(rand 40)) . join '', map { chr(int rand 256) } 1 .. int(rand 320) }
        }
        $ok &&= same($mut, "mutation $i", rand() < 0.1 ? (int(rand 400)) : ());
        last unless $ok;
    }
    ok $ok, "$n mutations";
};

subtest 'buffers the C code leaves to the pure decoder' => sub {
    my $f = $frames[0] . substr($frames[1], 0, 20);
    for my $case (['UTF-8 flagged', sub { my $b = $f; utf8::upgrade($b); $b }]) {
        my $b1 = $case->[1]->();
        my $b2 = $case->[1]->();
        my @p = eval { $pure->(\$b1) };
        my $pe = $@;
        my @x = eval { $xs->(\$b2) };
        is [dump_v(\@x), $@, $b2], [dump_v(\@p), $pe, $b1], $case->[0];
    }
    my ($p1, $x1) = ('', '');
    is [ scalar($xs->(\$x1)) ], [ scalar($pure->(\$p1)) ], 'scalar context: the count';
    my $two = $frames[0] . $frames[1];
    is scalar($xs->(\(my $t = $two))), 2, 'scalar context: two messages';
    my ($ro1, $ro2) = ($frames[0], $frames[0]);
    Internals::SvREADONLY($_, 1) for $ro1, $ro2;
    my $pe = dies { $pure->(\$ro1) };
    like dies { $xs->(\$ro2) }, qr/read-only/, 'a read-only buffer dies as in Perl';
    like $pe, qr/read-only/;
};

# --- encoding -------------------------------------------------------------------
subtest 'encode_body_into' => sub {
    my $pb = \&PAGI::Gateway::Worker::Codec::pure_encode_body_into;
    my $xb = \&PAGI::Gateway::Worker::XS::encode_body_into;
    for my $body ('', map({ 'b' x $_ } 1 .. 17), "\0\xff", do { my $u = "caf\xe9"; utf8::upgrade($u); $u }, 12345) {
        for my $more (0, 1, 'yes', undef) {
            for my $id (0, 7, 2**40 + 3) {
                my ($p, $x) = ('prefix', 'prefix');
                $pb->(\$p, $id, $body, $more);
                $xb->(\$x, $id, $body, $more);
                is unpack('H*', $x), unpack('H*', $p), "body of " . length($body) . " bytes, more " . ($more // 'undef');
            }
        }
    }
    my ($p, $x) = ('', '');
    my $pe = dies { $pb->(\$p, 1, "\x{263a}", 0) };
    my $xe = dies { $xb->(\$x, 1, "\x{263a}", 0) };
    is $xe, $pe, 'wide character: the same error';
    my $u;
    $xb->(\$u, 3, 'abc', 1);
    $pb->(\(my $pu), 3, 'abc', 1);
    is unpack('H*', $u), unpack('H*', $pu), 'an undef buffer';
    my $shared = 'x' x 8;
    my $copy = $shared;    # copy-on-write: appending must not change $shared
    $xb->(\$copy, 1, 'y', 0);
    is $shared, 'x' x 8, 'a copy-on-write buffer is not written through';
};

subtest 'FastFrames' => sub {
    my $F = 'PAGI::Gateway::Worker::FastFrames';
    for my $list ([], [ [ 'content-type', 'text/plain' ], [ 'content-length', 5 ] ], [ [ 'x-a', 'b' x 13 ] ]) {
        for my $round (1, 2) {    # a miss, then a hit
            my $hp = PAGI::Gateway::Worker::FastFrames::pure_headers($list);
            my $hx = PAGI::Gateway::Worker::XS::headers($list);
            is $hx, $hp, 'headers: same cache entry, round ' . $round;
            for my $st ([ 77, 200, 0 ], [ 2**40, 599, 1 ]) {
                is unpack('H*', PAGI::Gateway::Worker::XS::start_frame(@$st, $hx)),
                   unpack('H*', PAGI::Gateway::Worker::FastFrames::pure_start_frame(@$st, $hp)), 'start frame';
            }
        }
    }
    for my $bad ([ [ 'a', "b\nc\nd" ] ], [ [ 'a', undef ] ], [ [ 'a' ] ], [ 'a', 'b' ], [ [ 'a', [] ] ],
                 [ [ 'a', "\x{263a}" ] ], 'x', bless([], 'X'), [ bless([ 'a', 'b' ], 'Y') ]) {
        is PAGI::Gateway::Worker::XS::headers($bad), undef, 'bad list: undef as in Perl';
    }
    for my $id (0, 1, 2**40 + 3) {
        is unpack('H*', PAGI::Gateway::Worker::XS::scope_end_ok_frame($id)),
           unpack('H*', PAGI::Gateway::Worker::FastFrames::pure_scope_end_ok_frame($id)), "scopeEnd $id";
    }
};

subtest 'pairs' => sub {
    for my $flat ([], ['a'], ['a', 'b'], ['a', 'b', 'c'], [ map { ("h$_", "v$_") } 1 .. 20 ], [ 1, undef, "\x{263a}", '' ]) {
        my @want;
        for (my $i = 0; $i < $#$flat; $i += 2) { push @want, [ $flat->[$i], $flat->[$i + 1] ] }
        is dump_v(PAGI::Gateway::Worker::XS::pairs($flat)), dump_v(\@want), scalar(@$flat) . ' elements';
    }
    like dies { PAGI::Gateway::Worker::XS::pairs('x') }, qr/ARRAY/, 'not an array';
};

note "$compared decodes compared; outcomes:";
note sprintf '  %6d %s', $outcome{$_}, $_ for sort { $outcome{$b} <=> $outcome{$a} } keys %outcome;
ok keys(%outcome) >= 10, 'the mutations reach the decoders\' error paths';
done_testing;
