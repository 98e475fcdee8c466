# PSGI test app for t/40-psgi.t: one path per feature.
use strict;
use warnings;
use JSON::PP ();

my $file = __FILE__;
my $app = sub {
    my ($env) = @_;
    my $p = $env->{PATH_INFO};
    if ($p eq '/env') {
        my %e = map { $_ => $env->{$_} } grep { !ref $env->{$_} } keys %$env;
        $e{'psgi.version'} = $env->{'psgi.version'};
        $e{input_can_read} = $env->{'psgi.input'}->can('read') ? 1 : 0;
        $e{errors_is_stderr} = fileno($env->{'psgi.errors'}) == 2 ? 1 : 0;
        $e{has_psgix_io} = exists $env->{'psgix.io'} ? 1 : 0;
        $e{logger_is_code} = ref $env->{'psgix.logger'} eq 'CODE' ? 1 : 0;
        return [ 200, [ 'Content-Type' => 'application/json' ], [ JSON::PP->new->canonical->encode(\%e) ] ];
    }
    if ($p eq '/echo') {
        # Blocking reads; each chunk read is reported in the body.
        my @sizes;
        my $body = '';
        while (my $n = $env->{'psgi.input'}->read(my $buf, 65536)) { push @sizes, $n; $body .= $buf }
        return [ 200, [ 'Content-Type' => 'text/plain', 'X-Reads' => scalar @sizes ], [ $body ] ];
    }
    if ($p eq '/stream') {
        return sub {
            my ($respond) = @_;
            my $w = $respond->([ 200, [ 'Content-Type' => 'text/plain' ] ]);
            $w->write("first\n");
            # Blocks until the client sends more body: the first chunk must
            # already be out.
            $env->{'psgi.input'}->read(my $buf, 100);
            $w->write("second:$buf\n");
            $w->close;
            local $SIG{__WARN__} = sub { print STDERR "WARNED: $_[0]" };
            $w->write("after close\n");
        };
    }
    if ($p eq '/delayed') {
        return sub { $_[0]->([ 201, [ 'X-Delayed' => 1 ], [ 'delayed body' ] ]) };
    }
    if ($p eq '/fh') {
        open my $fh, '<', \"in-memory handle body" or die;
        return [ 200, [], $fh ];
    }
    if ($p eq '/object') {
        my @lines = ("a\n", "b\n");
        my $obj = bless { lines => \@lines }, 'GetlineBody';
        return [ 200, [], $obj ];
    }
    if ($p eq '/file') {
        open my $fh, '<', $file or die;
        return [ 200, [ 'Content-Type' => 'text/plain' ], $fh ];
    }
    if ($p eq '/logger') {
        my $log = $env->{'psgix.logger'};
        $log->({ level => 'warn', message => "LOGGED one" });
        $log->({ level => 'error', message => "LOGGED two\nsecond line\n" });
        $log->({ level => 'bogus', message => "LOGGED three" });
        return [ 200, [], [ ref $log ] ];
    }
    if ($p eq '/cleanup') {
        push @{ $env->{'psgix.cleanup.handlers'} }, sub { print STDERR "CLEANUP RAN $_[0]{PATH_INFO}\n" };
        return [ 200, [], [ 'ok' ] ];
    }
    if ($p eq '/harakiri') {
        $env->{'psgix.harakiri.commit'} = 1;
        return [ 200, [], [ 'bye' ] ];
    }
    if ($p eq '/die') { die "deliberate\n" }
    return [ 404, [ 'Content-Type' => 'text/plain' ], [ 'not found' ] ];
};

package GetlineBody;
sub getline { shift @{ $_[0]{lines} } }
sub close { 1 }

$app;
