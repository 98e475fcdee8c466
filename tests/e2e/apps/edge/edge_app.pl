# The edge policy tests' app: reports what the scope says about the client
# as JSON, or answers with X-Sendfile / X-Accel-Redirect when asked
# (?sendfile=/abs/path, ?accel=/uri).
use strict;
use warnings;
use Future::AsyncAwait;
use JSON::PP ();

my $JSON = JSON::PP->new->canonical->ascii;

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
    my %headers;
    $headers{ $_->[0] } = $_->[1] for @{ $scope->{headers} };
    my $body = $JSON->encode({
        client => $scope->{client},
        server => $scope->{server},
        scheme => $scope->{scheme},
        path   => $scope->{path},
        host   => $headers{host},
    }) . "\n";
    await $send->({ type => 'http.response.start', status => 200,
                    headers => [ [ 'content-type', 'application/json' ], [ 'content-length', length $body ] ] });
    await $send->({ type => 'http.response.body', body => $body });
};

$app;
