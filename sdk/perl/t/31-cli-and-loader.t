# bin/pagi-worker-perl usage errors and app loading.
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use PAGI::Gateway::Worker::AppLoader;

my $root = abs_path(dirname(__FILE__) . '/..');
my $apps = "$root/t/apps";

sub run_cli {
    my (@args) = @_;
    my $pid = open(my $out, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die;
        delete $ENV{PAGI_WORKER_FD};
        exec $^X, "-I$root/lib", "$root/bin/pagi-worker-perl", @args;
        die "exec: $!";
    }
    my $text = do { local $/; <$out> };
    close $out;
    return ($? >> 8, $text);
}

my ($rc, $text) = run_cli("$apps/main.pl");
isnt $rc, 0;
like $text, qr/no gateway socket: give --fd N, --connect PATH, or set PAGI_WORKER_FD/;
($rc, $text) = run_cli();
like $text, qr/expected exactly one APP file/;
($rc, $text) = run_cli('--fd', 'x', "$apps/main.pl");
like $text, qr/--fd must be a file descriptor number/;
($rc, $text) = run_cli('--connect', '/tmp/nope.sock', "$apps/main.pl");
like $text, qr/--connect needs --pool NAME/;
($rc, $text) = run_cli('--fd', 3, '--connect', '/tmp/x', '--pool', 'p', "$apps/main.pl");
like $text, qr/exclude each other/;
($rc, $text) = run_cli('--bogus', "$apps/main.pl");
like $text, qr/usage: pagi-worker-perl/;
{
    # Attach mode: no gateway yet is not fatal; the worker keeps trying
    # (backoff) until it is stopped.
    my $pid = open(my $out, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die;
        delete $ENV{PAGI_WORKER_FD};
        exec $^X, "-I$root/lib", "$root/bin/pagi-worker-perl", '--connect', '/tmp/pagi-no-such.sock', '--pool', 'p',
            "$apps/main.pl";
        die "exec: $!";
    }
    my $seen = '';
    while (my $line = <$out>) {
        $seen .= $line;
        last if $seen =~ /no gateway; connecting to \/tmp\/pagi-no-such.sock again/ && $seen =~ /cannot connect/;
    }
    like $seen, qr{cannot connect to '/tmp/pagi-no-such.sock'};
    like $seen, qr{no gateway; connecting to /tmp/pagi-no-such.sock again in \d};
    kill 'KILL', $pid;
    close $out;
}
($rc, $text) = run_cli('--fd', 3, "$apps/not-code.pl");
like $text, qr/must return a code reference \(the PAGI app\), got HASH/;
($rc, $text) = run_cli('--help');
is $rc, 0;
like $text, qr/--connect PATH/;

like dies { PAGI::Gateway::Worker::AppLoader::load("$apps/syntax-error.pl") }, qr/failed to load .*syntax-error\.pl.*syntax error/s;
like dies { PAGI::Gateway::Worker::AppLoader::load("$apps/missing.pl") }, qr/does not exist/;
my $app = PAGI::Gateway::Worker::AppLoader::load("$apps/no-lifespan.pl");
is ref $app, 'CODE';
ok((grep { $_ eq $apps } @INC), "the app's directory is in \@INC");
done_testing;
