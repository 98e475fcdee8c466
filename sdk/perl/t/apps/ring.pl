# Test app for t/34-e2e-body-ring.t (the shared body ring).
#   /bodies   each http.request chunk is a comma-separated list of sizes:
#             one response body event per size (more => 1), with the
#             content body_bytes(k, size) for the k-th body of the scope;
#             the last chunk ends the response with an empty body.
#   /env?fd=N JSON: PAGI_BODY_RING_FD as the app sees it, and whether
#             descriptor N is close-on-exec (Linux: /proc/self/fdinfo),
#             or {open => 0} when it is closed.
use strict;
use warnings;
use Future::AsyncAwait;
use JSON::PP ();

# Distinct bytes per body and per position, so a span copied to the wrong
# place or from the wrong body shows. (t/34 has the same function.)
sub body_bytes {
    my ($k, $n) = @_;
    my $unit = sprintf '%05d:', $k;
    return substr($unit x (int($n / length $unit) + 1), 0, $n);
}

return async sub {
    my ($scope, $receive, $send) = @_;
    if ($scope->{type} eq 'lifespan') {
        while (1) {
            my $ev = await $receive->();
            if ($ev->{type} eq 'lifespan.startup') { await $send->({ type => 'lifespan.startup.complete' }) }
            elsif ($ev->{type} eq 'lifespan.shutdown') { await $send->({ type => 'lifespan.shutdown.complete' }); return }
        }
    }
    if ($scope->{path} eq '/env') {
        my ($fd) = $scope->{query_string} =~ /fd=(\d+)/;
        # From /proc: a Perl handle on the descriptor would set close-on-exec
        # on it itself. O_CLOEXEC is 02000000 in fdinfo's octal flags.
        # A closed descriptor has no fdinfo: {open => 0}.
        my %out = (env => $ENV{PAGI_BODY_RING_FD});
        if (open my $info, '<', "/proc/self/fdinfo/$fd") {
            my ($flags) = join('', <$info>) =~ /^flags:\s*([0-7]+)/m or die "no flags for fd $fd";
            $out{cloexec} = (oct($flags) & 02000000) ? 1 : 0;
        }
        else { $out{open} = 0 }
        my $body = JSON::PP->new->canonical->encode(\%out);
        await $send->({ type => 'http.response.start', status => 200, headers => [] });
        await $send->({ type => 'http.response.body', body => $body });
        return;
    }
    await $send->({ type => 'http.response.start', status => 200, headers => [] });
    my $k = 0;
    while (1) {
        my $ev = await $receive->();
        last if $ev->{type} ne 'http.request';
        for my $n (grep { length } split /,/, $ev->{body}) {
            await $send->({ type => 'http.response.body', body => body_bytes($k++, $n), more => 1 });
        }
        last unless $ev->{more};
    }
    await $send->({ type => 'http.response.body', body => '', more => 0 });
};
