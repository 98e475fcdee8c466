# The worker's dispatch of gateway messages (Worker::_on_message): the
# http open's short path and the checks it must keep (open before the
# welcome, an id opened twice), other scope types, events for a scope that
# ended.
use strict;
use warnings;
use Test::More;
use Future;
use PAGI::Gateway::Worker;

my @ran;
my $app = sub {
    my ($scope, $receive, $send) = @_;
    push @ran, $scope->{type};
    return Future->done if $scope->{type} eq 'lifespan';
    return Future->new if $scope->{type} eq 'sse';    # stays open
    return Future->fail("unsupported\n") unless $scope->{type} eq 'http';
    $send->({ type => 'http.response.start', status => 204, headers => [] });
    return $send->({ type => 'http.response.body', body => '', more => 0 });
};

# A worker without a socket: its context records what it sends.
sub worker {
    my $w = PAGI::Gateway::Worker->new(app => $app, fd => 0);
    my $rec = { sent => [], logs => [] };
    $w->{started} = Future->new;
    $w->{finished} = Future->new;
    $w->{send} = sub { push @{ $rec->{sent} }, $_[0] };
    $w->{ctx} = {
        send     => $w->{send},
        log      => sub { push @{ $rec->{logs} }, $_[0] },
        finished => sub { delete $w->{scopes}{ $_[0] } },
        settings => {},
    };
    return ($w, $rec);
}

my %open = (type => 'open', scopeType => 'http', httpVersion => '1.1', method => 'GET', scheme => 'http',
    path => '/', rawPath => '/', queryString => '', rootPath => '', headers => [], clientHost => '',
    clientPort => 0, serverHost => '', serverPort => 0, serverIsUnix => 0, subprotocols => [],
    routeParams => [], requestId => '', extensions => 0, hasBody => 1, body => '', more => 0);
my %welcome = (scope => 0, type => 'welcome', protocolVersion => 1, workerId => 1, sendWindow => 1000,
    receiveWindow => 1000, maxMessageBytes => 1 << 20, lifespan => 'off');

{
    my ($w, $rec) = worker();
    { local *STDERR; open STDERR, '>', \my $err; $w->_on_message({ %open, scope => 3 }); }
    is $w->{exit_code}, 1, 'an open before the welcome stops the worker';
    is_deeply \@ran, [], 'and runs nothing';
}

{
    my ($w, $rec) = worker();
    $w->_on_message({%welcome});
    $w->_on_message({ %open, scope => 3 });
    is_deeply \@ran, ['http'], 'an http open runs the app';
    my @types = map { $_->{type} } @{ $rec->{sent} };
    is_deeply \@types, [qw(httpResponseStart httpResponseBody scopeEnd)], 'response and scopeEnd';
    ok $w->{scopes}{3}, 'the scope waits for responseDone';
    is $w->{scopes}{3}{scope}{'pagi.gateway'}{drain}, $w->_drain_future, 'the scope has the drain future';
    $w->_on_message({ scope => 3, type => 'responseDone' });
    ok !$w->{scopes}{3}, 'responseDone forgets it';
    $w->_on_message({ scope => 3, type => 'httpDisconnect', reason => 'client_closed' });
    ok !defined $w->{exit_code}, 'an event for a scope that ended is ignored';

    # An open for an id in use: a protocol error, not a second scope.
    @ran = ();
    my $never = Future->new;
    local $w->{app} = sub { push @ran, 'held'; $never };
    $w->_on_message({ %open, scope => 4 });
    { local *STDERR; open STDERR, '>', \my $err; $w->_on_message({ %open, scope => 4 }); }
    is_deeply \@ran, ['held'], 'the second open of an id runs nothing';
    is $w->{exit_code}, 1, 'and stops the worker';
}

{
    my ($w, $rec) = worker();
    $w->_on_message({%welcome});
    @ran = ();
    $w->_on_message({ %open, scope => 5, scopeType => 'sse' });
    is_deeply \@ran, ['sse'], 'an sse open takes the general path';
    ok $w->{scopes}{5} && $w->{scopes}{5}->isa('PAGI::Gateway::Worker::SseScope'), 'an sse scope';
}
done_testing;
