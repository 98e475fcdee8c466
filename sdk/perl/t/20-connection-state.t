# pagi.connection: exactly one of on_disconnect/on_complete, order of the
# state transitions, late registration, one-way is_connected.
use strict;
use warnings;
use Test2::V0;
use PAGI::Gateway::Worker::ConnectionState;

my $CS = 'PAGI::Gateway::Worker::ConnectionState';

subtest 'abnormal disconnect: order and exactly-one' => sub {
    my $c = $CS->new;
    my @log;
    ok $c->is_connected;
    is $c->disconnect_reason, undef;
    is $c->response_started, 0;
    is $c->response_complete, 0, 'completion is tracked (defined)';
    my $f = $c->disconnect_future;
    $f->on_done(sub { push @log, "future:$_[0]:connected=" . $c->is_connected . ':reason=' . $c->disconnect_reason });
    $c->on_disconnect(sub { push @log, "cb1:$_[0]:connected=" . $c->is_connected });
    $c->on_disconnect(sub { push @log, "cb2:$_[0]" });
    $c->on_complete(sub { push @log, 'complete' });
    ok $c->_disconnect('client_closed');
    is \@log, [ 'future:client_closed:connected=0:reason=client_closed', 'cb1:client_closed:connected=0', 'cb2:client_closed' ];
    ok !$c->is_connected;
    is $c->disconnect_reason, 'client_closed';
    # A later completion changes nothing; is_connected stays false.
    ok !$c->_complete;
    ok !$c->_disconnect('write_error');
    is $c->disconnect_reason, 'client_closed';
    ok !$c->is_connected;
    # Registration after the fact fires at once, with the reason.
    my $late;
    $c->on_disconnect(sub { $late = $_[0] });
    is $late, 'client_closed';
    my $late_complete = 0;
    $c->on_complete(sub { $late_complete++ });
    is $late_complete, 0, 'on_complete never fires after a disconnect';
    is $c->disconnect_future->get, 'client_closed';
    is \@log, [ 'future:client_closed:connected=0:reason=client_closed', 'cb1:client_closed:connected=0', 'cb2:client_closed' ],
        'no callback fired twice';
};

subtest 'successful completion' => sub {
    my $c = $CS->new;
    my @log;
    $c->on_complete(sub { push @log, 'c1' });
    $c->on_complete(sub { push @log, 'c2' });
    $c->on_disconnect(sub { push @log, 'd' });
    my $f = $c->disconnect_future;
    $c->_mark_started;
    $c->_mark_complete;
    ok $c->_complete;
    is \@log, [ 'c1', 'c2' ];
    ok !$c->is_connected, 'closed after completion';
    is $c->disconnect_reason, undef, 'no reason on success';
    ok !$f->is_ready, 'disconnect_future does not resolve on success';
    ok !$c->_disconnect('client_closed'), 'a later disconnect is ignored';
    is \@log, [ 'c1', 'c2' ];
    $c->on_complete(sub { push @log, 'late' });
    $c->on_disconnect(sub { push @log, 'late-d' });
    is \@log, [ 'c1', 'c2', 'late' ], 'late on_complete fires at once; on_disconnect never';
    is $c->response_started, 1;
    is $c->response_complete, 1;
};

subtest 'a dying callback does not stop the others' => sub {
    my $c = $CS->new;
    my @log;
    my $warned;
    local $SIG{__WARN__} = sub { $warned = $_[0] };
    $c->on_disconnect(sub { die "oops\n" });
    $c->on_disconnect(sub { push @log, 'second' });
    $c->_disconnect('server_error');
    is \@log, ['second'];
    like $warned, qr/callback died: oops/;
};

done_testing;
