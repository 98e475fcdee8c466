package PAGI::Gateway::Worker::Attach;
# Attach mode (pagi-worker-perl --connect PATH --pool NAME): one
# PAGI::Gateway::Worker per connection to the pool's socket. When the
# gateway cannot be reached, or goes away without saying `shutdown` (it was
# restarted, or stopped and releases its attached workers), the worker
# connects again after a capped exponential backoff with jitter, and the
# new gateway runs lifespan startup again. `shutdown` from the gateway
# (recycling: "exit after draining") and SIGTERM/SIGINT end the process, so
# whatever supervises it starts a fresh one.
use strict;
use warnings;
use IO::Async::Loop;
use Time::HiRes ();
use PAGI::Gateway::Worker;

# Backoff: FIRST_DELAY doubled per failed attempt, capped at MAX_DELAY, each
# delay multiplied by a random factor in [0.5, 1) so that the workers of a
# pod do not reconnect in lockstep. A session that lasted MAX_DELAY resets it.
our $FIRST_DELAY = 0.1;
our $MAX_DELAY   = 5;

sub delay_for {
    my ($attempt) = @_;
    my $d = $FIRST_DELAY * 2**($attempt > 30 ? 30 : $attempt);
    $d = $MAX_DELAY if $d > $MAX_DELAY;
    return $d * (0.5 + rand(0.5));
}

# run(%worker_args): the arguments of PAGI::Gateway::Worker->new (with
# connect and pool); returns the exit code once the process should exit.
sub run {
    my (%args) = @_;
    my $loop = delete $args{loop} // IO::Async::Loop->new;
    my $attempt = 0;
    while (1) {
        my $worker = PAGI::Gateway::Worker->new(%args, loop => $loop);
        my $t0 = Time::HiRes::time();
        my $code = $worker->run;
        return $code if $worker->{shutting_down};
        my $lasted = Time::HiRes::time() - $t0;
        $attempt = 0 if $worker->{welcome} && $lasted >= $MAX_DELAY;
        my $delay = delay_for($attempt++);
        printf STDERR "%s[%d]: %s; connecting to %s again in %.2fs\n", $PAGI::Gateway::Worker::SDK_NAME, $$,
            ($worker->{welcome} ? 'the gateway went away' : 'no gateway'), $args{connect}, $delay;
        $loop->delay_future(after => $delay)->get;
    }
}

1;
