# SSE in the style of the PAGI examples (05-sse-broadcaster), by path:
#   /events?n=N  sse.start, then N "tick" events one every 50 ms
#                (Future::IO->sleep), each with an id and two data lines,
#                a comment after the first, then the app returns
#   /forever     sse.start, keepalive every 0.2 s (comment "ping"), one
#                event, then waits for sse.disconnect (the client leaving)
#   /close       one event, then sse.close with reason "job_complete"
#   /decline     sse.http.response.start 204 (EventSource stops reconnecting)
#   /post        echoes the sse.request body (any method) as one event
# A websocket scope on this app joins a chat room: every text message is
# sent to every member (a broadcaster for WebSocket).
use strict;
use warnings;
use Future::AsyncAwait;
use Future::IO;

my %room;    # id -> $send

async sub chat {
    my ($scope, $receive, $send) = @_;
    await $receive->();    # websocket.connect
    await $send->({ type => 'websocket.accept' });
    my $id = "$send";
    $room{$id} = $send;
    while (1) {
        my $ev = await $receive->();
        last if $ev->{type} eq 'websocket.disconnect';
        next unless defined $ev->{text};
        await Future->needs_all(map { $_->({ type => 'websocket.send', text => $ev->{text} }) } values %room);
    }
    delete $room{$id};
}

sub param {
    my ($scope, $name, $default) = @_;
    return $scope->{query_string} =~ /(?:^|&)\Q$name\E=([^&]*)/ ? $1 : $default;
}

async sub watch_disconnect {
    my ($receive) = @_;
    while (1) {
        my $ev = await $receive->();
        return $ev if $ev->{type} eq 'sse.disconnect';
    }
}

my %ROUTE = (
    '/events' => async sub {
        my ($scope, $receive, $send) = @_;
        my $n = param($scope, 'n', 3);
        await $send->({ type => 'sse.start', status => 200, headers => [ [ 'content-type', 'text/event-stream' ] ] });
        my $gone = watch_disconnect($receive);
        for my $i (1 .. $n) {
            last if $gone->is_ready;
            await Future::IO->sleep(0.05);
            await $send->({ type => 'sse.send', event => 'tick', id => $i, data => "tick $i\nline two" });
            await $send->({ type => 'sse.comment', comment => 'after the first' }) if $i == 1;
        }
    },
    '/forever' => async sub {
        my ($scope, $receive, $send) = @_;
        await $send->({ type => 'sse.start' });
        await $send->({ type => 'sse.keepalive', interval => 0.2, comment => 'ping' });
        await $send->({ type => 'sse.send', data => 'hello', retry => 2000 });
        my $ev = await watch_disconnect($receive);
        print STDERR "broadcaster: sse.disconnect $ev->{reason}\n";
    },
    '/close' => async sub {
        my ($scope, $receive, $send) = @_;
        await $send->({ type => 'sse.start' });
        await $send->({ type => 'sse.send', data => 'last one' });
        await $send->({ type => 'sse.close', reason => 'job_complete' });
        await Future::IO->sleep(0.05);    # cleanup after the stream ended
    },
    '/decline' => async sub {
        my ($scope, $receive, $send) = @_;
        await $send->({ type => 'sse.http.response.start', status => 204, headers => [] });
        await $send->({ type => 'sse.http.response.body', body => '' });
    },
    '/post' => async sub {
        my ($scope, $receive, $send) = @_;
        my $body = '';
        while (1) {
            my $ev = await $receive->();
            last unless $ev->{type} eq 'sse.request';
            $body .= $ev->{body};
            last unless $ev->{more};
        }
        await $send->({ type => 'sse.start' });
        await $send->({ type => 'sse.send', event => 'echo', data => "$scope->{method} $body" });
    },
);

return async sub {
    my ($scope, $receive, $send) = @_;
    die "no lifespan\n" if $scope->{type} eq 'lifespan';
    return await chat($scope, $receive, $send) if $scope->{type} eq 'websocket';
    if ($scope->{type} ne 'sse') {
        await $send->({ type => 'http.response.start', status => 200, headers => [ [ 'content-type', 'text/plain' ] ] });
        await $send->({ type => 'http.response.body', body => "plain http\n" });
        return;
    }
    my $h = $ROUTE{ $scope->{path} };
    unless ($h) {
        await $send->({ type => 'sse.http.response.start', status => 404, headers => [ [ 'content-type', 'text/plain' ] ] });
        await $send->({ type => 'sse.http.response.body', body => "no stream here\n" });
        return;
    }
    await $h->($scope, $receive, $send);
};
