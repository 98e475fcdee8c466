package PAGI::Gateway::Worker::ScopeBuilder;
# Builds the PAGI $scope hashref of an http, websocket or sse scope from the
# gateway's `open` message. The caller adds pagi.connection / pagi.transport.
use strict;
use warnings;
use PAGI::Gateway::Worker::Layout;
use PAGI::Gateway::Worker::Codec;

my %C = %PAGI::Gateway::Worker::Layout::CONST;
my ($EXT_FULLFLUSH, $EXT_WS_RESPONSE, $EXT_TLS, $EXT_EARLY_HINTS) =
    @C{qw(extFullflush extWebsocketHttpResponse extTls extEarlyHints)};

# The XS accelerator's pairs() (the loop below in C) when it is in use.
my $PAIRS = PAGI::Gateway::Worker::Codec::implementation() eq 'xs' ? \&PAGI::Gateway::Worker::XS::pairs : undef;

sub build {
    my ($m, $state) = @_;
    my $h = $m->{headers};
    my $headers = $PAIRS ? $PAIRS->($h) : do {
        my @headers;
        for (my $i = 0; $i < $#$h; $i += 2) { push @headers, [ $h->[$i], $h->[$i + 1] ] }
        \@headers;
    };
    my $type = $m->{scopeType};
    my %scope = (
        type         => $type,
        pagi         => { version => '0.3', spec_version => '0.3' },
        http_version => $m->{httpVersion},
        scheme       => $m->{scheme} eq '' ? ($type eq 'websocket' ? 'ws' : 'http') : $m->{scheme},
        path         => $m->{path},
        raw_path     => $m->{rawPath} eq '' ? $m->{path} : $m->{rawPath},
        query_string => $m->{queryString},
        root_path    => $m->{rootPath},
        headers      => $headers,
        state        => { %$state },
        extensions   => $m->{extensions} ? extensions($m) : {},
    );
    # Text fields arrive as UTF-8 bytes; path and root_path are strings.
    utf8::decode($scope{path});
    utf8::decode($scope{root_path}) if length $scope{root_path};    # usually empty
    $scope{method} = $m->{method} if $type ne 'websocket' || $m->{method} ne '';
    $scope{client} = [ $m->{clientHost}, $m->{clientPort} ] if $m->{clientHost} ne '';
    # The TCP peer, only when the gateway replaced client (trusted proxy,
    # PROXY protocol); absent means client is the peer.
    $scope{'pagi.peer'} = [ $m->{peerHost}, $m->{peerPort} ] if length $m->{peerHost};
    if ($m->{serverHost} ne '') {
        $scope{server} = $m->{serverIsUnix} ? [ $m->{serverHost}, undef ] : [ $m->{serverHost}, $m->{serverPort} ];
    }
    $scope{subprotocols} = $m->{subprotocols} if $type eq 'websocket';
    my $params = $m->{routeParams};
    if (@$params || $m->{requestId} ne '') {
        my %p;
        for (my $i = 0; $i < $#$params; $i += 2) { $p{ $params->[$i] } = $params->[$i + 1] }
        $scope{'pagi.gateway'} = { request_id => $m->{requestId} };
        # The route's :name segments (gateway `routes:`), as the issue's
        # scope key pagi.route.
        $scope{'pagi.route'} = { params => \%p } if @$params;
    }
    return \%scope;
}

sub extensions {
    my ($m) = @_;
    my $bits = $m->{extensions} or return {};
    my %ext;
    $ext{fullflush} = {} if $bits & $EXT_FULLFLUSH;
    $ext{'websocket.http.response'} = {} if $bits & $EXT_WS_RESPONSE;
    $ext{'http.response.early_hint'} = {} if $bits & $EXT_EARLY_HINTS;
    if (($bits & $EXT_TLS) && (my $t = $m->{tls})) {
        my $or_undef = sub { length $_[0] ? $_[0] : undef };
        $ext{tls} = {
            server_cert       => $or_undef->($t->{serverCert}),
            client_cert_chain => $t->{clientCertChain},
            client_cert_name  => $or_undef->($t->{clientCertName}),
            client_cert_error => $or_undef->($t->{clientCertError}),
            tls_version       => $t->{tlsVersion} || undef,
            cipher_suite      => $t->{cipherSuite} || undef,
        };
    }
    return \%ext;
}

1;
