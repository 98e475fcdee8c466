package PAGI::Gateway::Worker::OpenDecoder;
# Decodes an `open` frame straight into the PAGI $scope: the generic decoder
# fills a 25-key message hash that ScopeBuilder::build then copies into the
# scope; this one keeps the fields in lexicals and builds the scope from
# them (≈ 4 µs less per request, docs/benchmarks.md). The worker's wire
# passes decoders() to Codec::decode_frames.
#
# The message it returns keeps what the worker and the scope objects read
# (scope, type, scopeType, hasBody, body, more, expectContinue) and carries
# the scope under 'pagi.scope', without `state` (the worker adds its copy).
# The decoding code is the codec's own generated decoder for ScopeOpen with
# its stores rewritten to lexicals; the scope part below must stay the same
# as ScopeBuilder::build -- t/12-open-decoder.t compares the two on many
# opens, so a key added to one and not the other fails there.
use strict;
use warnings;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::Layout;
use PAGI::Gateway::Worker::ScopeBuilder;

my $OPEN_TAG = $PAGI::Gateway::Worker::Layout::ENVELOPE_TAG{open};

my $BUILD = <<'PERL';
$out->{scopeType} = $F_scopeType;
$out->{hasBody} = $F_hasBody;
$out->{more} = $F_more;
$out->{expectContinue} = $F_expectContinue;
$out->{body} = $F_body;
return $out if $F_scopeType eq 'lifespan';
my @headers;
for (my $i = 0; $i < $#$F_headers; $i += 2) { push @headers, [ $F_headers->[$i], $F_headers->[$i + 1] ] }
my %scope = (
    type         => $F_scopeType,
    pagi         => { version => '0.3', spec_version => '0.3' },
    http_version => $F_httpVersion,
    scheme       => $F_scheme eq '' ? ($F_scopeType eq 'websocket' ? 'ws' : 'http') : $F_scheme,
    path         => $F_path,
    raw_path     => $F_rawPath eq '' ? $F_path : $F_rawPath,
    query_string => $F_queryString,
    root_path    => $F_rootPath,
    headers      => \@headers,
    extensions   => $F_extensions
        ? PAGI::Gateway::Worker::ScopeBuilder::extensions({ extensions => $F_extensions, tls => $F_tls })
        : {},
);
utf8::decode($scope{path});
utf8::decode($scope{root_path});
$scope{method} = $F_method if $F_scopeType ne 'websocket' || $F_method ne '';
$scope{client} = [ $F_clientHost, $F_clientPort ] if $F_clientHost ne '';
if ($F_serverHost ne '') {
    $scope{server} = $F_serverIsUnix ? [ $F_serverHost, undef ] : [ $F_serverHost, $F_serverPort ];
}
$scope{subprotocols} = $F_subprotocols if $F_scopeType eq 'websocket';
if (@$F_routeParams || $F_requestId ne '') {
    my %p;
    for (my $i = 0; $i < $#$F_routeParams; $i += 2) { $p{ $F_routeParams->[$i] } = $F_routeParams->[$i + 1] }
    $scope{'pagi.gateway'} = { request_id => $F_requestId };
    $scope{'pagi.route'} = { params => \%p } if @$F_routeParams;
}
$out->{'pagi.scope'} = \%scope;
return $out;
PERL

# The fields $BUILD reads: the generated decoder must set each of them.
my @FIELDS = qw(scopeType hasBody more expectContinue body headers httpVersion scheme path rawPath queryString
                rootPath extensions tls method clientHost clientPort serverHost serverIsUnix subprotocols
                routeParams requestId);

# Rewrites the generated ScopeOpen decoder; undef when it does not look as
# expected (then the generic decoder and ScopeBuilder are used).
sub _edit {
    my ($src) = @_;
    my %seen;
    $src =~ s/^keys\(%\$out\) = \d+;\n//m or return;
    $src =~ s/\$out->\{'(\w+)'\}/$seen{$1}++; "\$F_$1"/ge;
    return if grep { !$seen{$_} } @FIELDS;
    my $decl = 'my (' . join(', ', map {"\$F_$_"} sort keys %seen) . ");\n";
    $src =~ s/^(my \$out = \$_\[6\];\n)/$1$decl/m or return;
    $src =~ s/^return \$out;\n\}\s*\z/$BUILD}\n/m or return;
    return $src;
}

my $DECODER = PAGI::Gateway::Worker::Codec::compile_decoder_variant('ScopeOpen', \&_edit);
my @DECODERS;
$DECODERS[$OPEN_TAG] = $DECODER if $DECODER && defined $OPEN_TAG;

# For Codec::decode_frames($buf, $max, decoders()).
sub decoders { \@DECODERS }

sub available { $DECODER ? 1 : 0 }

1;
