# Test app for t/50-websocket.t and t/51-sse.t: one path per behaviour.
use strict;
use warnings;
use utf8;
use Future::AsyncAwait;
use JSON::PP ();

# Scopes hold objects (pagi.transport, the drain Future): they encode as null.
my $json = JSON::PP->new->canonical->allow_nonref->allow_blessed;

# Runs each send; collects the failure messages (first line) in order.
async sub failures {
    my ($send, @events) = @_;
    my @errors;
    for my $ev (@events) {
        my $ok = eval { await $send->($ev); 1 };
        my $e = $@ // '';
        $e =~ s/\n.*//s;
        push @errors, $ok ? 'ok' : $e;
    }
    return \@errors;
}

my %WS = (
    '/echo' => async sub {
        my ($scope, $receive, $send) = @_;
        my $c = await $receive->();
        die "expected websocket.connect, got $c->{type}" unless $c->{type} eq 'websocket.connect';
        my %accept = (type => 'websocket.accept', headers => [ [ 'x-ws', 'yes' ] ]);
        $accept{subprotocol} = $scope->{subprotocols}[-1] if @{ $scope->{subprotocols} };
        await $send->(\%accept);
        while (1) {
            my $ev = await $receive->();
            if ($ev->{type} eq 'websocket.disconnect') {
                # Sends after the disconnect are no-ops.
                await $send->({ type => 'websocket.send', text => 'too late' });
                return;
            }
            if (defined $ev->{bytes}) {
                await $send->({ type => 'websocket.send', bytes => $ev->{bytes} });
                next;
            }
            my $text = $ev->{text};
            if ($text eq 'close') {
                await $send->({ type => 'websocket.close', code => 4000, reason => 'bye ✓' });
                my $d = await $receive->();
                die "expected a disconnect after close, got $d->{type}" unless $d->{type} eq 'websocket.disconnect';
                return;
            }
            if ($text eq 'scope') {
                my %s = %$scope;
                $s{transport} = [ map { $scope->{'pagi.transport'}->$_ } qw(buffered_amount high_water_mark low_water_mark) ];
                delete @s{qw(pagi.transport state)};
                await $send->({ type => 'websocket.send', text => $json->encode(\%s) });
                next;
            }
            await $send->({ type => 'websocket.send',
                            text => 'echo: ' . $text . ' len=' . length($text) });
        }
    },
    '/deny' => async sub {
        my ($scope, $receive, $send) = @_;
        await $receive->();
        await $send->({ type => 'websocket.http.response.start', status => 401,
                        headers => [ [ 'www-authenticate', 'Bearer' ] ] });
        await $send->({ type => 'websocket.http.response.body', body => 'no ', more => 1 });
        await $send->({ type => 'websocket.http.response.body', body => 'entry' });
        my $d = await $receive->();
        die "expected a disconnect after the denial, got $d->{type}" unless $d->{type} eq 'websocket.disconnect';
        await $send->({ type => 'websocket.accept' });    # a no-op now
    },
    '/deny-no-ext' => async sub {
        my ($scope, $receive, $send) = @_;
        await $receive->();
        my $errors = await failures($send, { type => 'websocket.http.response.start', status => 401 });
        await $send->({ type => 'websocket.close', reason => $errors->[0] =~ /extension/ ? 'ok' : 'bad' });
    },
    '/reject' => async sub {
        my ($scope, $receive, $send) = @_;
        await $receive->();
        await $send->({ type => 'websocket.close' });
        my $d = await $receive->();
        die "expected a disconnect after the rejection" unless $d->{type} eq 'websocket.disconnect';
    },
    '/noanswer' => async sub { return },
    '/die' => async sub {
        my ($scope, $receive, $send) = @_;
        await $receive->();
        await $send->({ type => 'websocket.accept' });
        die "boom\n";
    },
    '/keepalive' => async sub {
        my ($scope, $receive, $send) = @_;
        await $receive->();
        await $send->({ type => 'websocket.keepalive', interval => 30 });      # held until accept
        await $send->({ type => 'websocket.keepalive', interval => 0.25, timeout => 2 });
        await $send->({ type => 'websocket.accept' });
        await $send->({ type => 'websocket.keepalive', interval => 0 });
    },
    '/after-accept-denial' => async sub {
        my ($scope, $receive, $send) = @_;
        await $receive->();
        await $send->({ type => 'websocket.accept' });
        # Ignored after accept (the spec), so nothing reaches the gateway.
        await $send->({ type => 'websocket.http.response.start', status => 403 });
        await $send->({ type => 'websocket.http.response.body', body => 'x' });
    },
    '/validate' => async sub {
        my ($scope, $receive, $send) = @_;
        await $receive->();
        my $before = await failures($send, { type => 'websocket.send', text => 'early' });
        await $send->({ type => 'websocket.accept' });
        my $errors = await failures($send,
            { type => 'websocket.send' },
            { type => 'websocket.send', text => 'a', bytes => 'b' },
            { type => 'websocket.send', bytes => "\x{263a}" },
            { type => 'websocket.send', text => "\x{D800}" },
            { type => 'websocket.send', text => [] },
            { type => 'websocket.close', code => 1005 },
            { type => 'websocket.close', code => 'x' },
            { type => 'websocket.close', reason => 'r' x 124 },
            { type => 'websocket.keepalive', interval => -1 },
            { type => 'websocket.keepalive' },
            { type => 'websocket.accept' },
            { type => 'websocket.ping' },
            { type => 'http.response.start', status => 200 },
            'not a hash',
        );
        await $send->({ type => 'websocket.send', text => $json->encode([ @$before, @$errors ]) });
        await $send->({ type => 'websocket.close', code => 1000 });
        await $send->({ type => 'websocket.send', text => 'after close: a no-op' });
    },
    '/flow' => async sub {
        my ($scope, $receive, $send) = @_;
        await $receive->();
        await $send->({ type => 'websocket.accept' });
        my $t = $scope->{'pagi.transport'};
        my @marks;
        $t->on_high_water(sub { push @marks, 'high' });
        $t->on_drain(sub { push @marks, 'drain' });
        my @f = map { $send->({ type => 'websocket.send', bytes => $_ x 40 }) } qw(a b c);
        my @ready = map { $_->is_ready ? 1 : 0 } @f;
        await Future->needs_all(@f);
        await $send->({ type => 'websocket.send', text => $json->encode({ ready => \@ready, marks => \@marks }) });
        # Reading: credit goes back as messages are taken.
        while (1) {
            my $ev = await $receive->();
            last if $ev->{type} eq 'websocket.disconnect';
        }
    },
);

my %SSE = (
    '/events' => async sub {
        my ($scope, $receive, $send) = @_;
        my $body = '';
        while (1) {
            my $ev = await $receive->();
            die "expected sse.request, got $ev->{type}" unless $ev->{type} eq 'sse.request';
            $body .= $ev->{body};
            last unless $ev->{more};
        }
        await $send->({ type => 'sse.keepalive', interval => 15, comment => 'early' });
        await $send->({ type => 'sse.start', headers => [ [ 'x-body', $body ] ] });
        await $send->({ type => 'sse.send', data => "line 1\nlïne 2", event => 'tick', id => '7', retry => 1500 });
        await $send->({ type => 'sse.send', data => '' });
        await $send->({ type => 'sse.comment', comment => 'hi' });
        await $send->({ type => 'sse.keepalive', interval => 0.5, comment => 'ping' });
        await $send->({ type => 'sse.close', reason => 'job_complete' });
        await $send->({ type => 'sse.close' });    # idempotent
        my $after = await failures($send,
            { type => 'sse.send', data => 'x' }, { type => 'sse.comment', comment => 'x' },
            { type => 'sse.keepalive', interval => 1 }, { type => 'sse.http.response.start', status => 200 });
        my $d = await $receive->();
        die "after close: $d->{type} $d->{reason}" unless $d->{type} eq 'sse.disconnect' && $d->{reason} eq 'job_complete';
        die 'after close: ' . $json->encode($after) if grep { $_ eq 'ok' } @$after;
    },
    '/decline' => async sub {
        my ($scope, $receive, $send) = @_;
        await $send->({ type => 'sse.http.response.start', status => 204, headers => [ [ 'x-why', 'stop' ] ] });
        await $send->({ type => 'sse.http.response.body', body => '' });
        my $errors = await failures($send, { type => 'sse.start' }, { type => 'sse.send', data => 'x' },
                                    { type => 'sse.http.response.body', body => 'x' });
        die 'after decline: ' . $json->encode($errors) if grep { $_ eq 'ok' } @$errors;
    },
    '/validate' => async sub {
        my ($scope, $receive, $send) = @_;
        my $before = await failures($send, { type => 'sse.send', data => 'early' }, { type => 'sse.close' },
            { type => 'sse.http.response.body', body => 'x' });
        await $send->({ type => 'sse.start', status => 200 });
        my $errors = await failures($send,
            { type => 'sse.send' },
            { type => 'sse.send', data => 'x', event => "a\nb" },
            { type => 'sse.send', data => 'x', id => "1\r" },
            { type => 'sse.send', data => 'x', id => "1\0" },
            { type => 'sse.send', data => 'x', retry => -1 },
            { type => 'sse.send', data => 'x', retry => 1.5 },
            { type => 'sse.send', data => [] },
            { type => 'sse.comment', comment => "a\nb" },
            { type => 'sse.keepalive', interval => 'soon' },
            { type => 'sse.start' },
            { type => 'sse.http.response.start', status => 404 },
            { type => 'http.response.body', body => '' },
            { type => 'sse.send', data => 'ok', event => 'e', id => '' },
        );
        await $send->({ type => 'sse.send', data => $json->encode([ @$before, @$errors ]) });
    },
    '/wait' => async sub {
        my ($scope, $receive, $send) = @_;
        await $send->({ type => 'sse.start' });
        my $s = { %$scope };
        $s->{transport} = [ map { $scope->{'pagi.transport'}->$_ } qw(buffered_amount high_water_mark) ];
        delete @$s{qw(pagi.transport state)};
        await $send->({ type => 'sse.send', data => $json->encode($s) });
        my $ev;
        do { $ev = await $receive->() } until $ev->{type} eq 'sse.disconnect';
        await $send->({ type => 'sse.send', data => "gone: $ev->{reason}" });    # a no-op
    },
    '/flow' => async sub {
        my ($scope, $receive, $send) = @_;
        await $send->({ type => 'sse.start' });
        my @f = map { $send->({ type => 'sse.send', data => $_ x 40 }) } qw(a b);
        my $ready = $f[1]->is_ready ? 1 : 0;
        await Future->needs_all(@f);
        await $send->({ type => 'sse.send', data => "second was ready: $ready" });
    },
    '/noanswer' => async sub { return },
);

return async sub {
    my ($scope, $receive, $send) = @_;
    my $type = $scope->{type};
    die "no lifespan\n" if $type eq 'lifespan';
    my $table = $type eq 'websocket' ? \%WS : $type eq 'sse' ? \%SSE : {};
    my $h = $table->{ $scope->{path} } or die "no $type route for $scope->{path}\n";
    await $h->($scope, $receive, $send);
};
