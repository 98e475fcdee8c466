# The error log tests' app (tests/e2e/test_ops_error_log.py): every request
# writes to the worker's stderr, then answers with the worker's pid.
#   /say         one line "said: <query>" (the query as sent)
#   /long        one line of 40000 'x' (longer than the gateway's line cap)
#   /partial     "no newline yet" without a newline, then exits the worker
#   /bytes       a line with a quote, a backslash, a tab and bytes 0x01, 0xff
# and "lifespan shutdown <pid>" at lifespan shutdown (the gateway stopping).
use strict;
use warnings;
use Future::AsyncAwait;

$| = 1;
STDERR->autoflush(1);

my $app = async sub {
    my ($scope, $receive, $send) = @_;
    if ($scope->{type} eq 'lifespan') {
        while (1) {
            my $event = await $receive->();
            if ($event->{type} eq 'lifespan.startup') {
                await $send->({ type => 'lifespan.startup.complete' });
            }
            elsif ($event->{type} eq 'lifespan.shutdown') {
                print STDERR "lifespan shutdown $$\n";
                await $send->({ type => 'lifespan.shutdown.complete' });
                return;
            }
        }
    }
    my $path = $scope->{path};
    if    ($path eq '/say')     { print STDERR "said: $scope->{query_string}\n" }
    elsif ($path eq '/long')    { print STDERR 'x' x 40000, "\n" }
    elsif ($path eq '/bytes')   { print STDERR "q\"b\\t\t\x01\xff end\n" }
    elsif ($path eq '/partial') { print STDERR "no newline yet"; exit 3 }
    my $body = "$$\n";
    await $send->({
        type    => 'http.response.start',
        status  => 200,
        headers => [ [ 'content-type', 'text/plain' ], [ 'content-length', length $body ] ],
    });
    await $send->({ type => 'http.response.body', body => $body });
};

$app;
