# The HTTP/2 and TLS end-to-end app: a few routes of its own (the tls scope
# extension, early hints, HTTP/2 request bodies), everything else served by
# the shared test app (app.pl) loaded beside it.
use strict;
use warnings;
use Future::AsyncAwait;
use File::Basename ();
use JSON::PP ();

my $JSON = JSON::PP->new->canonical->ascii->allow_nonref;
my $base = do(File::Basename::dirname(__FILE__) . '/app.pl') or die "app.pl: $@ $!";

sub note_event {
    my ($line) = @_;
    return unless defined $ENV{E2E_EVENTS};
    open my $fh, '>>', $ENV{E2E_EVENTS} or die "open: $!";
    syswrite $fh, "$line\n";
    close $fh;
}

async sub drain_body {
    my ($receive) = @_;
    my $body = '';
    while (1) {
        my $event = await $receive->();
        return $body unless $event->{type} eq 'http.request';
        $body .= $event->{body} // '';
        return $body unless $event->{more};
    }
}

async sub json_response {
    my ($send, $data) = @_;
    my $body = $JSON->encode($data);
    await $send->({ type => 'http.response.start', status => 200,
        headers => [ [ 'content-type', 'application/json' ], [ 'content-length', length $body ] ] });
    await $send->({ type => 'http.response.body', body => $body });
}

my %route;

# What a TLS/HTTP/2 test checks: version, scheme, headers, the tls extension.
$route{h2scope} = async sub {
    my ($scope, $receive, $send) = @_;
    my $body = await drain_body($receive);
    my $ext = $scope->{extensions} || {};
    await json_response($send, {
        http_version => $scope->{http_version},
        scheme       => $scope->{scheme},
        method       => $scope->{method},
        path         => $scope->{path},
        query_string => $scope->{query_string},
        headers      => $scope->{headers},
        extensions   => [ sort keys %$ext ],
        tls          => $ext->{tls},
        body_length  => length $body,
    });
};

# Two 103s with Link headers, then the response.
$route{hints} = async sub {
    my ($scope, $receive, $send) = @_;
    await drain_body($receive);
    if ($scope->{extensions}{'http.response.early_hint'}) {
        await $send->({ type => 'http.response.early_hint',
            headers => [ [ 'link', '</style.css>; rel=preload; as=style' ] ] });
        await $send->({ type => 'http.response.early_hint',
            headers => [ [ 'link', '</app.js>; rel=preload; as=script' ] ] });
    }
    await $send->({ type => 'http.response.start', status => 200,
        headers => [ [ 'content-type', 'text/plain' ], [ 'content-length', 5 ] ] });
    await $send->({ type => 'http.response.body', body => 'hints' });
};

# Waits for the client to go away; reports the disconnect event.
$route{h2wait} = async sub {
    my ($scope, $receive, $send) = @_;
    await $send->({ type => 'http.response.start', status => 200,
        headers => [ [ 'content-type', 'text/plain' ] ] });
    await $send->({ type => 'http.response.body', body => "started\n", more => 1 });
    note_event("h2wait started $scope->{query_string}");
    while (1) {
        my $event = await $receive->();
        if ($event->{type} eq 'http.disconnect') {
            my $conn = $scope->{'pagi.connection'};
            my $reason = $event->{reason} // ($conn ? $conn->disconnect_reason : undef) // '';
            note_event("h2wait disconnect $scope->{query_string} $reason");
            return;
        }
    }
};

async sub {
    my ($scope, $receive, $send) = @_;
    if ($scope->{type} eq 'http') {
        my ($first) = $scope->{path} =~ m{^/([^/]*)};
        if (my $handler = $route{ $first // '' }) {
            return await $handler->($scope, $receive, $send);
        }
    }
    return await $base->($scope, $receive, $send);
};
