# Attach mode: the reconnect backoff is capped and jittered (the reconnect
# itself is exercised end to end in tests/e2e/test_supervision_attach.py).
use strict;
use warnings;
use Test2::V0;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PAGI::Gateway::Worker::Attach;

my $first = $PAGI::Gateway::Worker::Attach::FIRST_DELAY;
my $max   = $PAGI::Gateway::Worker::Attach::MAX_DELAY;
for my $attempt (0 .. 40) {
    my $full = $first * 2**$attempt;
    $full = $max if $full > $max;
    for (1 .. 20) {
        my $d = PAGI::Gateway::Worker::Attach::delay_for($attempt);
        ok $d >= $full / 2 && $d < $full, "attempt $attempt: $d within [$full/2, $full)" or last;
    }
}
done_testing;
