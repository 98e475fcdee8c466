# HttpScope in-process: the request body that came whole in the open is made
# into its event only when the app first receives (HttpScope::_open); the
# order of what $receive returns must not change for that.
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use ScopeHarness;

sub respond {
    my ($h) = @_;
    ok $h->send({ type => 'http.response.start', status => 200 })->is_done;
    ok $h->send({ type => 'http.response.body', body => 'ok' })->is_done;
}

subtest 'an empty GET body, read first' => sub {
    my $h = ScopeHarness->new;
    my $ev = $h->receive->get;
    is $ev, { type => 'http.request', body => '', more => 0 };
    ok !$h->receive->is_ready, 'then waits';
};

subtest 'the body after the response and responseDone, then http.disconnect' => sub {
    my $h = ScopeHarness->new(open => { method => 'POST', body => 'abc' });
    respond($h);
    $h->finish;
    $h->gateway(type => 'responseDone');
    is $h->{finished}, 1, 'forgotten after responseDone';
    ok $h->conn->response_complete;
    is $h->receive->get, { type => 'http.request', body => 'abc', more => 0 };
    is $h->receive->get, { type => 'http.disconnect' };
};

subtest 'the body comes before a disconnect the app had not read yet' => sub {
    my $h = ScopeHarness->new(open => { method => 'POST', body => 'abc' });
    $h->gateway(type => 'httpDisconnect', reason => 'client_closed');
    is $h->receive->get, { type => 'http.request', body => 'abc', more => 0 };
    is $h->receive->get, { type => 'http.disconnect' };
    is $h->conn->disconnect_reason, 'client_closed';
};

subtest 'a body in parts: the open part first, then the frames' => sub {
    my $h = ScopeHarness->new(open => { method => 'POST', body => 'ab', more => 1 });
    $h->gateway(type => 'httpRequest', body => 'cd', more => 0);
    is $h->receive->get, { type => 'http.request', body => 'ab', more => 1 };
    is $h->receive->get->{body}, 'cd';
};

subtest 'no body in the open (hasBody 0): the app waits for the frames' => sub {
    my $h = ScopeHarness->new(open => { method => 'POST', hasBody => 0 });
    my $f = $h->receive;
    ok !$f->is_ready;
    $h->gateway(type => 'httpRequest', body => 'x', more => 0);
    is $f->get, { type => 'http.request', body => 'x', more => 0 };
};

subtest 'the final body marks pagi.connection complete at once' => sub {
    my $h = ScopeHarness->new;
    ok !$h->conn->response_complete;
    respond($h);
    ok $h->conn->response_started && $h->conn->response_complete;
    $h->finish;
    is $h->types, [qw(httpResponseStart httpResponseBody scopeEnd)];
    is $h->{finished}, 0, 'kept until responseDone';
    $h->gateway(type => 'responseDone');
    is $h->{finished}, 1;
};

done_testing;
