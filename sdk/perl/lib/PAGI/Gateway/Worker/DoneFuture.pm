package PAGI::Gateway::Worker::DoneFuture;
# The done Future an http scope's $send returns when the event went out at
# once (nearly every send). One instance per process, shared by all scopes:
# a done Future has nothing left to change (on_ready, then, on_done run at
# once and keep nothing; cancel is a no-op once ready).
#
# It is a Future subclass only to make `await` on it cheaper: Future's
# AWAIT_IS_READY and AWAIT_GET are wrappers that call is_ready and result,
# two sub calls per await each; here they are constants (done, no values:
# what is_ready and result return for Future->done). Everything else is
# Future's own: get, is_done, state, then, on_ready, retain, ... behave as on
# Future->done, and blessed/isa('Future') hold (`ref` names this class: the
# spec promises a Future, not its exact class; IO::Async hands apps
# subclasses all the time).
#
# Future builds new futures from an existing one with $f->new (then/else on
# a ready future, without_cancel, needs_all/wait_any's result, AWAIT_CLONE):
# those would be instances of this class, pending, with constant "ready"
# awaits. So `new` here makes a plain Future; the one instance of this class
# is made by reblessing Future->done.
#
# Only with the pure-Perl Future (Future::PP, a hash whose state the
# inherited methods read): Future::XS builds objects in C and has its own
# fast awaits, so there $DONE is a plain Future->done.
use strict;
use warnings;
use Future;

our @ISA = ('Future');

sub new { shift; Future->new(@_) }

# Future::AsyncAwait makes an async sub's result with these, on a class or
# on a future it takes as the prototype: never this instance (Future's
# versions call ->done on the invocant, which is already done).
sub AWAIT_NEW_DONE { shift; Future->done(@_) }
sub AWAIT_NEW_FAIL { shift; Future->fail(@_) }

# Ready (a constant sub: no Perl frame), and no values, as result() of
# Future->done returns in list and scalar context.
use constant AWAIT_IS_READY => 1;
sub AWAIT_GET { return }
*AWAIT_RESULT = \&AWAIT_GET;

# The shared instance.
our $DONE = Future->isa('Future::PP') ? bless(Future->done, __PACKAGE__) : Future->done;

1;
