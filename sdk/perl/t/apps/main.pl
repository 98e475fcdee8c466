# Test app for t/30-e2e.t: one route per behaviour under test.
use strict;
use warnings;
use Future::AsyncAwait;
use Future::IO;
use JSON::PP ();

my $json = JSON::PP->new->canonical->allow_nonref;

async sub respond {
    my ($send, $status, $body, @headers) = @_;
    await $send->({ type => 'http.response.start', status => $status,
                    headers => [ [ 'content-type', 'text/plain' ], @headers ] });
    await $send->({ type => 'http.response.body', body => $body, more => 0 });
}

async sub read_body {
    my ($receive) = @_;
    my ($body, $chunks) = ('', 0);
    while (1) {
        my $ev = await $receive->();
        last if $ev->{type} ne 'http.request';
        $body .= $ev->{body};
        $chunks++;
        last unless $ev->{more};
    }
    return ($body, $chunks);
}

return async sub {
    my ($scope, $receive, $send) = @_;
    if ($scope->{type} eq 'lifespan') {
        while (1) {
            my $ev = await $receive->();
            if ($ev->{type} eq 'lifespan.startup') {
                $scope->{state}{greeting} = 'hi from lifespan';
                $scope->{state}{shared} = { hits => 0 };
                await $send->({ type => 'lifespan.startup.complete' });
            }
            elsif ($ev->{type} eq 'lifespan.shutdown') {
                await $send->({ type => 'lifespan.shutdown.complete' });
                return;
            }
        }
    }
    die "unsupported scope type $scope->{type}\n" unless $scope->{type} eq 'http';
    my $path = $scope->{path};
    my $conn = $scope->{'pagi.connection'};
    if ($path eq '/hello') {
        return await respond($send, 200, 'Hello, world!');
    }
    if ($path eq '/scope') {
        my %copy = map { $_ => $scope->{$_} } grep { !/^pagi\./ && $_ ne 'state' } keys %$scope;
        $copy{state_greeting} = $scope->{state}{greeting};
        $copy{has_connection} = ref $conn ? 1 : 0;
        $copy{has_transport} = ref $scope->{'pagi.transport'} ? 1 : 0;
        $copy{high_water_mark} = $scope->{'pagi.transport'}->high_water_mark;
        return await respond($send, 200, $json->encode(\%copy));
    }
    if ($path eq '/echo') {
        my ($body, $chunks) = await read_body($receive);
        return await respond($send, 200, "$chunks:$body");
    }
    if ($path eq '/die') {
        die "boom from /die\n";
    }
    if ($path eq '/nothing') {
        return;
    }
    if ($path eq '/sleep') {
        await Future::IO->sleep(0.001);
        return await respond($send, 200, 'slept');
    }
    if ($path eq '/stream') {
        # query: n=<chunks>&size=<bytes>; each send's readiness is recorded.
        my %q = map { split /=/, $_, 2 } split /&/, $scope->{query_string};
        my $t = $scope->{'pagi.transport'};
        my @log;
        $t->on_high_water(sub { push @log, 'high:' . $t->buffered_amount });
        $t->on_drain(sub { push @log, 'drain:' . $t->buffered_amount });
        await $send->({ type => 'http.response.start', status => 200, headers => [] });
        for my $i (1 .. $q{n}) {
            await $send->({ type => 'http.response.body', body => ('x' x $q{size}), more => 1 });
        }
        await $send->({ type => 'http.response.body', body => join(',', @log), more => 0 });
        return;
    }
    if ($path eq '/wait-disconnect') {
        my @log;
        $conn->on_disconnect(sub { push @log, "on_disconnect:$_[0]:" . ($conn->is_connected ? 1 : 0) });
        $conn->on_complete(sub { push @log, 'on_complete' });
        my $df = $conn->disconnect_future;
        await $send->({ type => 'http.response.start', status => 200, headers => [] });
        await $send->({ type => 'http.response.body', body => 'partial', more => 1 });
        my $ev = await $receive->();    # the (empty) request body
        $ev = await $receive->();       # waits until the client leaves
        push @log, "receive:$ev->{type}", 'future:' . $df->get;
        # A send after disconnect is a no-op and does not raise.
        await $send->({ type => 'http.response.body', body => 'late', more => 0 });
        push @log, 'late-send-ok', 'reason:' . $conn->disconnect_reason;
        $conn->on_disconnect(sub { push @log, "late-cb:$_[0]" });
        print STDERR "LOG: @log\n";
        return;
    }
    if ($path eq '/complete') {
        my @log;
        $conn->on_complete(sub { print STDERR "LOG: on_complete connected=" . ($conn->is_connected ? 1 : 0) . "\n" });
        $conn->on_disconnect(sub { print STDERR "LOG: on_disconnect\n" });
        await respond($send, 200, 'done');
        print STDERR "LOG: after-respond started=" . $conn->response_started . " complete=" . $conn->response_complete . "\n";
        return;
    }
    if ($path eq '/bad-header') {
        my $ok = eval { await $send->({ type => 'http.response.start', status => 200,
                                        headers => [ [ 'x-evil', "a\r\nb" ] ] }); 1 };
        return await respond($send, 200, $ok ? 'accepted' : "rejected: $@");
    }
    if ($path eq '/file') {
        await $send->({ type => 'http.response.start', status => 200, headers => [] });
        await $send->({ type => 'http.response.body', file => __FILE__, offset => 2, length => 5 });
        return;
    }
    if ($path eq '/fh') {
        open my $fh, '<', \"0123456789" or die;
        await $send->({ type => 'http.response.start', status => 200, headers => [] });
        await $send->({ type => 'http.response.body', fh => $fh, offset => 3, length => 4 });
        return;
    }
    return await respond($send, 404, 'not found');
};
