# HttpScope in-process: send window and credit, request body credit,
# 100-continue, receive after the end, the 500 backstop and scopeEnd.
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use ScopeHarness;

subtest 'send window waits for credit' => sub {
    my $h = ScopeHarness->new;    # sendWindow 100
    my $t = $h->scope->{'pagi.transport'};
    my @marks;
    $t->on_high_water(sub { push @marks, 'high' });
    $t->on_drain(sub { push @marks, 'drain' });
    ok $h->send({ type => 'http.response.start', status => 200 })->is_done;
    ok $h->send({ type => 'http.response.body', body => 'a' x 60, more => 1 })->is_done, 'fits: resolves at once';
    is $t->buffered_amount, 60;
    my $f = $h->send({ type => 'http.response.body', body => 'b' x 60, more => 1 });
    ok !$f->is_ready, 'over the window: waits';
    my $g = $h->send({ type => 'http.response.body', body => 'c', more => 0 });
    ok !$g->is_ready, 'later sends queue behind it';
    is $h->types, [qw(httpResponseStart httpResponseBody)];
    $h->gateway(type => 'credit', bytes => 10);
    ok !$f->is_ready, 'still does not fit (50 + 60 > 100)';
    $h->gateway(type => 'credit', bytes => 50);
    ok $f->is_done && $g->is_done, 'credit released both';
    is $t->buffered_amount, 61;
    is [ map { length $_->{body} } @{ $h->take } ], [ 60, 1 ];
    is \@marks, [], 'never reached the high mark';
    $h->gateway(type => 'credit', bytes => 61);
    is $t->buffered_amount, 0;
};

subtest 'a waiting send wakes only once half the window is free' => sub {
    my $h = ScopeHarness->new;    # sendWindow 100
    $h->send({ type => 'http.response.start', status => 200 });
    ok $h->send({ type => 'http.response.body', body => 'a' x 60, more => 1 })->is_done;
    ok $h->send({ type => 'http.response.body', body => 'b' x 30, more => 1 })->is_done, 'still fits (90)';
    my $f = $h->send({ type => 'http.response.body', body => 'c' x 30, more => 1 });
    ok !$f->is_ready, '90 + 30 > 100: waits';
    $h->take;
    $h->gateway(type => 'credit', bytes => 20);
    ok !$f->is_ready, '70 in flight: the event would fit, but more than half the window is in flight';
    is $h->take, [], 'nothing sent';
    $h->gateway(type => 'credit', bytes => 20);
    ok $f->is_done, '50 in flight: half the window free, the send goes';
    is [ map { length $_->{body} } @{ $h->take } ], [30];
    is $h->scope->{'pagi.transport'}->buffered_amount, 80;
    ok $h->send({ type => 'http.response.body', body => 'd' x 20, more => 1 })->is_done,
        'a running app still fills the window to the last byte';
    my $g = $h->send({ type => 'http.response.body', body => 'e', more => 0 });
    ok !$g->is_ready;
    $h->gateway(type => 'credit', bytes => 100);
    ok $g->is_done, 'all credited: wakes (what the no-stall argument relies on)';
};

subtest 'an event larger than the window goes when nothing is in flight' => sub {
    my $h = ScopeHarness->new;
    my $t = $h->scope->{'pagi.transport'};
    my @marks;
    $t->on_high_water(sub { push @marks, 'high:' . $t->buffered_amount });
    $t->on_drain(sub { push @marks, 'drain:' . $t->buffered_amount });
    $h->send({ type => 'http.response.start', status => 200 });
    ok $h->send({ type => 'http.response.body', body => 'x' x 250, more => 1 })->is_done;
    my $f = $h->send({ type => 'http.response.body', body => 'y', more => 0 });
    ok !$f->is_ready;
    $h->gateway(type => 'credit', bytes => 200);
    ok $f->is_done, 'fits after credit';
    is \@marks, ['high:250'], '51 in flight: not below the low mark (50)';
    $h->gateway(type => 'credit', bytes => 2);
    is \@marks, [ 'high:250', 'drain:49' ];
};

subtest 'request body credit' => sub {
    my $h = ScopeHarness->new(open => { method => 'POST', body => 'a' x 30, more => 1 });  # receiveWindow 100
    my $ev = $h->receive->get;
    is $ev, { type => 'http.request', body => 'a' x 30, more => 1 };
    is $h->take, [], 'no credit yet (batched)';
    $h->gateway(type => 'httpRequest', body => 'b' x 30, more => 1);
    is $h->receive->get->{body}, 'b' x 30;
    is $h->take, [ { scope => 5, type => 'credit', bytes => 60 } ], 'credit once half the window is consumed';
    $h->gateway(type => 'httpRequest', body => 'c' x 10, more => 1);
    is $h->receive->get->{body}, 'c' x 10;
    is $h->take, [], 'batched';
    my $f = $h->receive;
    ok !$f->is_ready, 'waiting for more body';
    is $h->take, [], 'waiting with less than half the window outstanding sends no credit (the gateway has room)';
    $h->gateway(type => 'httpRequest', body => 'd', more => 0);
    is $f->get, { type => 'http.request', body => 'd', more => 0 };
    my $d = $h->receive;
    ok !$d->is_ready, 'after the body: waits for the end of the response';
    is $h->take, [], 'no credit for the last chunk';
    $h->gateway(type => 'httpDisconnect', reason => 'client_closed');
    is $d->get, { type => 'http.disconnect' };
};

subtest '100-continue: first receive sends the credit' => sub {
    my $h = ScopeHarness->new(open => { method => 'PUT', hasBody => 0, more => 0, expectContinue => 1 });
    is $h->take, [], 'nothing before the app reads';
    my $f = $h->receive;
    is $h->take, [ { scope => 5, type => 'credit', bytes => 100 } ];
    $h->gateway(type => 'httpRequest', body => 'x', more => 0);
    is $f->get->{body}, 'x';
};

subtest 'responseDone: on_complete, http.disconnect, forgotten after scopeEnd' => sub {
    my $h = ScopeHarness->new;
    my @log;
    is $h->receive->get, { type => 'http.request', body => '', more => 0 }, 'the GET body event comes first';
    $h->conn->on_complete(sub { push @log, 'complete' });
    $h->conn->on_disconnect(sub { push @log, 'disconnect' });
    $h->send({ type => 'http.response.start', status => 200 });
    $h->send({ type => 'http.response.body', body => 'ok' });
    $h->finish;
    is $h->types, [qw(httpResponseStart httpResponseBody scopeEnd)];
    is $h->{finished}, 0, 'kept until the gateway says how the response ended';
    $h->gateway(type => 'responseDone');
    is \@log, ['complete'];
    is $h->{finished}, 1;
    is $h->receive->get, { type => 'http.disconnect' };
};

subtest 'backstop: app returns without a response' => sub {
    my $h = ScopeHarness->new;
    my @log;
    $h->conn->on_disconnect(sub { push @log, "disconnect:$_[0]" });
    $h->finish;
    my $m = $h->take;
    is [ map { $_->{type} } @$m ], [qw(httpResponseStart httpResponseBody scopeEnd)];
    is $m->[0]{status}, 500;
    is $m->[2], { scope => 5, type => 'scopeEnd', failed => 0, message => '' };
    is \@log, ['disconnect:server_error'];
    ok $h->conn->response_started;
    like $h->{logs}[0], qr{^GET /t: app returned without a response};
    is $h->{finished}, 1;
};

subtest 'backstop: app dies' => sub {
    my $h = ScopeHarness->new;
    $h->fail("kaboom\n");
    my $m = $h->take;
    is [ map { $_->{type} } @$m ], [qw(httpResponseStart httpResponseBody scopeEnd)];
    is $m->[2]{failed}, 1;
    is $m->[2]{message}, "kaboom\n";
    like $h->{logs}[0], qr{^GET /t: app died: kaboom};
};

subtest 'no backstop when the client already left' => sub {
    my $h = ScopeHarness->new;
    $h->gateway(type => 'httpDisconnect', reason => 'client_closed');
    $h->finish;
    is $h->types, ['scopeEnd'];
    is $h->{logs}, [], 'and nothing logged';
};

subtest 'scopeEnd waits for frames still waiting for credit' => sub {
    my $h = ScopeHarness->new;
    $h->send({ type => 'http.response.start', status => 200 });
    $h->send({ type => 'http.response.body', body => 'x' x 100, more => 1 });
    $h->send({ type => 'http.response.body', body => 'y', more => 0 });
    $h->finish;    # the app did not await its last send
    is $h->types, [qw(httpResponseStart httpResponseBody)];
    $h->gateway(type => 'credit', bytes => 100);
    is $h->types, [qw(httpResponseBody scopeEnd)];
};

subtest 'disconnect releases waiting sends' => sub {
    my $h = ScopeHarness->new;
    $h->send({ type => 'http.response.start', status => 200 });
    $h->send({ type => 'http.response.body', body => 'x' x 100, more => 1 });
    my $f = $h->send({ type => 'http.response.body', body => 'y', more => 1 });
    ok !$f->is_ready;
    $h->gateway(type => 'httpDisconnect', reason => 'write_error');
    ok $f->is_done, 'resolved without sending';
    is $h->conn->disconnect_reason, 'write_error';
    $h->finish;
    is $h->types, [qw(httpResponseStart httpResponseBody scopeEnd)];
};

subtest 'fh bodies are read and sent within the window' => sub {
    my $h = ScopeHarness->new(settings => { sendWindow => 4 });
    open my $fh, '<', \"0123456789abc" or die;
    $h->send({ type => 'http.response.start', status => 200 });
    my $f = $h->send({ type => 'http.response.body', fh => $fh, offset => 1, length => 10 });
    my @bodies;
    while (!$f->is_ready) {
        push @bodies, map { $_->{body} } grep { $_->{type} eq 'httpResponseBody' } @{ $h->take };
        $h->gateway(type => 'credit', bytes => 4);
    }
    push @bodies, map { $_->{body} } grep { $_->{type} eq 'httpResponseBody' } @{ $h->take };
    ok $f->is_done;
    is join('', @bodies), '123456789a';
    ok $h->conn->response_complete;
};

done_testing;
