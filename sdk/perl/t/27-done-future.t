# What $send returns when the event went out at once (DoneFuture.pm): a
# done Future, shared, that behaves as Future->done for everything an app
# may do with it, and whose derived futures are plain and independent.
use strict;
use warnings;
use Test::More;
use Scalar::Util qw(blessed);
use Future;
use Future::AsyncAwait;
use File::Basename qw(dirname);
use lib dirname(__FILE__) . '/lib';
use ScopeHarness;
use PAGI::Gateway::Worker::DoneFuture;

my $h = ScopeHarness->new;
my $f = $h->send({ type => 'http.response.start', status => 200, headers => [] });
my $g = $h->send({ type => 'http.response.body', body => 'x', more => 1 });
is $f, $g, 'one shared instance';
is $f, $PAGI::Gateway::Worker::DoneFuture::DONE, 'the DoneFuture one';
ok blessed($f) && $f->isa('Future'), 'isa Future';
ok $f->is_ready && $f->is_done && !$f->is_failed && !$f->is_cancelled, 'done';
is $f->state, 'done', 'state';
is_deeply [ $f->get ], [], 'get: no values (list)';
is scalar($f->get), undef, 'get: undef (scalar)';
is_deeply [ $f->result ], [], 'result';
is $f->await, $f, 'await returns itself';

# await through Future::AsyncAwait, in list, scalar and void context.
my $app = async sub {
    my @l = await $f;
    my $s = await $f;
    await $f;
    return [ scalar(@l), $s ];
};
is_deeply $app->()->get, [ 0, undef ], 'await yields what await Future->done yields';
is_deeply [ (async sub { my @l = await Future->done; my $s = await Future->done; (scalar(@l), $s) })->()->get ],
    [ 0, undef ], '(the same for a plain done future)';

# Derived futures are plain Futures with their own state.
my $t = $f->then(sub { Future->done(42) });
is scalar($t->get), 42, 'then runs at once';
my $pending = Future->new;
my $chained = $f->then(sub { $pending });
is $chained, $pending, 'then returns what the callback returned';
my $up = $f->then(sub { 7 });
is ref($up), 'Future', 'a non-Future result is upgraded to a plain Future';
is scalar($up->get), 7, 'with its value';
my $clone = $f->new;
is ref($clone), 'Future', 'new on it makes a plain Future';
ok !$clone->is_ready, 'pending';
my $late = Future->new;
my $all = Future->needs_all($f, $late);
ok !$all->is_ready, 'needs_all with a pending future waits';
is ref($all), 'Future', 'and is a plain Future';
my $resumed;
my $waiter = (async sub { await $all; $resumed = 1 })->();
ok !$resumed, 'an await on it suspends';
$late->done;
ok $resumed && $waiter->is_done, 'and resumes';
my $nd = $f->AWAIT_NEW_DONE(3);
ok ref($nd) eq 'Future' && $nd->is_done && $nd->get == 3, 'AWAIT_NEW_DONE on it makes a new plain future';
my $nf = $f->AWAIT_NEW_FAIL("no\n");
ok ref($nf) eq 'Future' && $nf->is_failed, 'AWAIT_NEW_FAIL too';
ok $f->is_done, 'and leaves it done';
my $nc = $f->without_cancel;
ok $nc->is_done && ref($nc) eq 'Future', 'without_cancel';

# Nothing an app does to it sticks or changes it for the next scope.
my ($ran, $rd) = (0, 0);
$f->on_done(sub { $ran++ });
$f->on_ready(sub { $rd++ });
is "$ran/$rd", '1/1', 'on_done/on_ready run at once';
$f->retain;
$f->cancel;
ok $f->is_done && !$f->is_cancelled, 'cancel on it is a no-op';
ok !exists $f->{callbacks} || !@{ $f->{callbacks} }, 'no callback is kept'
    if ref $f ne 'Future' || Future->isa('Future::PP');
my $h2 = ScopeHarness->new;
my $f2 = $h2->send({ type => 'http.response.start', status => 200, headers => [] });
ok $f2->is_done, 'the next scope gets a done future again';

# A send that has to wait returns a fresh pending future, not the shared one.
my $h3 = ScopeHarness->new(settings => { sendWindow => 4 });
$h3->send({ type => 'http.response.start', status => 200, headers => [] });
$h3->send({ type => 'http.response.body', body => 'abcd', more => 1 });
my $w = $h3->send({ type => 'http.response.body', body => 'efgh', more => 1 });
ok !$w->is_ready, 'a send over the window is pending';
isnt $w, $f, 'and not the shared future';
$h3->gateway(type => 'credit', bytes => 4);
ok $w->is_done, 'credit completes it';
done_testing;
