# The app of tests/e2e/test_browser.py, by scope and path:
#   http  /     page.html (the page's script opens the two below)
#   websocket   accepts with the first offered subprotocol, echoes every
#               message unchanged; the text "close" closes with 4000 "bye"
#   sse   /sse  without Last-Event-ID: a "greeting" event (two data lines,
#               id 1, retry 100 ms) and a comment, then the stream ends;
#               with Last-Event-ID 1: a plain message naming it (id 2),
#               then ends; with Last-Event-ID 2: declined with 204
use strict;
use warnings;
use Future::AsyncAwait;
use File::Basename qw(dirname);

my $page = do {
    open my $fh, '<:raw', dirname(__FILE__) . '/page.html' or die "page.html: $!";
    local $/;
    <$fh>;
};

sub header_of {
    my ($scope, $name) = @_;
    for my $h (@{ $scope->{headers} || [] }) { return $h->[1] if lc $h->[0] eq $name }
    return undef;
}

async sub websocket_echo {
    my ($scope, $receive, $send) = @_;
    await $receive->();    # websocket.connect
    my %accept = (type => 'websocket.accept');
    $accept{subprotocol} = $scope->{subprotocols}[0] if @{ $scope->{subprotocols} || [] };
    await $send->(\%accept);
    while (1) {
        my $ev = await $receive->();
        return if $ev->{type} eq 'websocket.disconnect';
        next unless $ev->{type} eq 'websocket.receive';
        if (defined $ev->{text} && $ev->{text} eq 'close') {
            await $send->({ type => 'websocket.close', code => 4000, reason => 'bye' });
            next;
        }
        await $send->(defined $ev->{bytes}
            ? { type => 'websocket.send', bytes => $ev->{bytes} }
            : { type => 'websocket.send', text  => $ev->{text} });
    }
}

async sub sse_stream {
    my ($scope, $receive, $send) = @_;
    my $last = header_of($scope, 'last-event-id') // '';
    if ($last eq '2') {
        await $send->({ type => 'sse.http.response.start', status => 204, headers => [] });
        await $send->({ type => 'sse.http.response.body', body => '' });
        return;
    }
    await $send->({ type => 'sse.start' });
    if ($last eq '') {
        await $send->({ type => 'sse.send', event => 'greeting', id => 1, retry => 100, data => "line one\nline two" });
        await $send->({ type => 'sse.comment', comment => 'not an event' });
    }
    else {
        await $send->({ type => 'sse.send', id => 2, data => "resumed after $last" });
    }
}

return async sub {
    my ($scope, $receive, $send) = @_;
    die "no lifespan\n" if $scope->{type} eq 'lifespan';
    return await websocket_echo($scope, $receive, $send) if $scope->{type} eq 'websocket';
    return await sse_stream($scope, $receive, $send) if $scope->{type} eq 'sse' && $scope->{path} eq '/sse';
    my $found = $scope->{path} eq '/';
    await $send->({
        type    => ($scope->{type} eq 'sse' ? 'sse.' : '') . 'http.response.start',
        status  => $found ? 200 : 404,
        headers => [ [ 'content-type', $found ? 'text/html; charset=utf-8' : 'text/plain' ] ],
    });
    await $send->({ type => ($scope->{type} eq 'sse' ? 'sse.' : '') . 'http.response.body', body => $found ? $page : "not found\n" });
};
