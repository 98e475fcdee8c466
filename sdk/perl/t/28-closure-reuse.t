# An http scope's $send/$receive closures go to the next scope only when
# nothing else can call them any more (HttpScope::_forget, XS sole_ref):
# an app that keeps them in any way (a copy, \@_, a weak copy) keeps closures
# that still talk to its own, finished scope.
use strict;
use warnings;
use Test::More;
use Scalar::Util qw(weaken refaddr);
use Future;
use PAGI::Gateway::Worker::HttpScope;
use PAGI::Gateway::Worker::XS;

my (@frames, @finished);
my $ctx = {
    send     => sub { push @frames, $_[0] },
    log      => sub { },
    finished => sub { push @finished, $_[0] },
    settings => { sendWindow => 1000, receiveWindow => 1000, maxMessageBytes => 1 << 20 },
};

# Runs one complete scope; $app gets ($scope, $receive, $send) after it sent
# its response. Returns the closures the scope handed out (as addresses).
my $id = 0;
sub one_scope {
    my ($app) = @_;
    my $s = PAGI::Gateway::Worker::HttpScope::_open({ scope => ++$id }, $ctx, { type => 'http' });
    my @got;
    PAGI::Gateway::Worker::HttpScope::run($s, sub {
        my ($scope, $receive, $send) = @_;
        @got = (refaddr($receive), refaddr($send));
        $send->({ type => 'http.response.start', status => 200, headers => [] });
        $send->({ type => 'http.response.body', body => 'ok', more => 0 });
        $app->(@_) if $app;
        return Future->done;
    });
    $s->on_message({ scope => $id, type => 'responseDone' });
    is $finished[-1], $id, "scope $id forgotten";
    return \@got;
}

my $xs = PAGI::Gateway::Worker::XS::load() && defined &PAGI::Gateway::Worker::XS::sole_ref;

my $first = one_scope();
my $second = one_scope();
if ($xs) { is_deeply $second, $first, 'closures nobody kept are reused' }
else { pass 'pure path: every scope makes its own closures' }

# Kept closures: each way of keeping them stops their reuse.
my %kept;
my %how = (
    copy  => sub { $kept{copy} = $_[2] },
    args  => sub { $kept{args} = \@_ },
    alias => sub { $kept{alias} = \$_[2] },
    weak  => sub { weaken($kept{weak} = $_[2]) },
    in_closure => sub { my $send = $_[2]; $kept{in_closure} = sub { $send } },
);
for my $way (sort keys %how) {
    my $kept_scope = one_scope($how{$way});
    # A scope in flight next: it must never get what the app kept.
    my $s = PAGI::Gateway::Worker::HttpScope::_open({ scope => ++$id }, $ctx, { type => 'http' });
    my $live;
    PAGI::Gateway::Worker::HttpScope::run($s, sub { $live = $_[2]; Future->new });
    my $send = $way eq 'args' ? $kept{args}[2]
        : $way eq 'alias' ? ${ $kept{alias} }
        : $way eq 'in_closure' ? $kept{in_closure}->()
        : $kept{$way};
    @frames = ();
    SKIP: {
        # A weak copy is cleared when the scope's closures go (both alive
        # cannot share an address, so that check only runs when it is not).
        skip "$way: the weak copy is gone with its scope's closures", 3 unless $send;
        is refaddr($send), $kept_scope->[1], "$way: the app still has its own \$send";
        isnt refaddr($live), refaddr($send), "$way: the running scope has other closures";
        my $f = $send->({ type => 'http.response.start', status => 200, headers => [] });
        ok $f->is_done && !@frames, "$way: a late send is a no-op, nothing reaches the running scope";
    }
    $live->({ type => 'http.response.start', status => 200, headers => [] });
    is_deeply [ map { $_->{scope} } @frames ], [$id], "$way: the running scope's own send still works";
    undef $live;
    %kept = ();
}

# A $receive kept by the app is enough to keep both.
my $r;
my $kr = one_scope(sub { $r = $_[1] });
my $after = one_scope();
isnt $after->[0], $kr->[0], 'a kept $receive is not reused';
is_deeply $r->()->get, { type => 'http.disconnect' }, 'and still answers for its own scope';
done_testing;
