# The edge policy tests' app: reports what the scope says about the client
# as JSON (client, pagi.peer, scheme, ...), or answers with X-Sendfile /
# X-Accel-Redirect when asked (?sendfile=/abs/path, ?accel=/uri).
# A websocket scope is accepted; each text message is answered with that
# JSON plus "echo". An sse scope gets one event with that JSON, then stays
# open until the client leaves or the gateway closes it.
use strict;
use warnings;
use Future::AsyncAwait;
use JSON::PP ();

my $JSON = JSON::PP->new->canonical->ascii;

sub about {
    my ($scope) = @_;
    my %headers;
    $headers{ $_->[0] } = $_->[1] for @{ $scope->{headers} };
    return {
        client => $scope->{client},
        peer   => $scope->{'pagi.peer'},
        server => $scope->{server},
        scheme => $scope->{scheme},
        path   => $scope->{path},
        host   => $headers{host},
    };
}

my $app = async sub {
    my ($scope, $receive, $send) = @_;
    if ($scope->{type} eq 'lifespan') {
        while (1) {
            my $event = await $receive->();
            if ($event->{type} eq 'lifespan.startup') {
                await $send->({ type => 'lifespan.startup.complete' });
            }
            elsif ($event->{type} eq 'lifespan.shutdown') {
                await $send->({ type => 'lifespan.shutdown.complete' });
                return;
            }
        }
    }
    if ($scope->{type} eq 'websocket') {
        await $receive->();    # websocket.connect
        await $send->({ type => 'websocket.accept' });
        while (1) {
            my $ev = await $receive->();
            last if $ev->{type} eq 'websocket.disconnect';
            next unless defined $ev->{text};
            await $send->({ type => 'websocket.send', text => $JSON->encode({ %{ about($scope) }, echo => $ev->{text} }) });
        }
        return;
    }
    if ($scope->{type} eq 'sse') {
        await $send->({ type => 'sse.start', status => 200 });
        await $send->({ type => 'sse.send', data => $JSON->encode(about($scope)) });
        while (1) {
            my $ev = await $receive->();
            return if $ev->{type} eq 'sse.disconnect';
        }
    }
    my %q = map { my ($k, $v) = split /=/, $_, 2; ($k => $v // '') } split /&/, ($scope->{query_string} // '');
    if (defined $q{sendfile} || defined $q{accel}) {
        my $name = defined $q{sendfile} ? 'x-sendfile' : 'x-accel-redirect';
        my $body = "app body that must not reach the client\n";
        await $send->({ type => 'http.response.start', status => 200,
                        headers => [ [ $name, $q{sendfile} // $q{accel} ], [ 'x-app', 'yes' ],
                                     [ 'content-length', length $body ] ] });
        await $send->({ type => 'http.response.body', body => $body });
        return;
    }
    my $body = $JSON->encode(about($scope)) . "\n";
    await $send->({ type => 'http.response.start', status => 200,
                    headers => [ [ 'content-type', 'application/json' ], [ 'content-length', length $body ] ] });
    await $send->({ type => 'http.response.body', body => $body });
};

$app;
