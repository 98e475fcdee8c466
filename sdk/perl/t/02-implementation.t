# Which codec runs: PAGI_WORKER_PURE=1 forces the pure path; the in-tree
# build (blib/arch next to lib/) is found without any setting, refused when
# older than its sources; a tree without it runs pure, silently.
use strict;
use warnings;
use Test2::V0;
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Cwd qw(abs_path);
use PAGI::Gateway::Worker::Codec;

my $sdk = abs_path(dirname(__FILE__) . '/..');
my $impl = PAGI::Gateway::Worker::Codec::implementation();
if ($ENV{PAGI_WORKER_PURE}) { is $impl, 'pure', 'PAGI_WORKER_PURE=1: pure' }
if ($ENV{PAGI_TEST_REQUIRE_XS}) { is $impl, 'xs', 'the XS accelerator is in use' or diag $PAGI::Gateway::Worker::XS::WHY }
is \&PAGI::Gateway::Worker::FastFrames::headers,
   $impl eq 'xs' ? \&PAGI::Gateway::Worker::XS::headers : \&PAGI::Gateway::Worker::FastFrames::pure_headers,
   'FastFrames follows the codec'
    if defined &PAGI::Gateway::Worker::FastFrames::headers;

# implementation(), the object loaded, and the loader's warnings of a perl
# run on the SDK tree $lib.
my $tmp = tempdir(CLEANUP => 1);
open my $pf, '>', "$tmp/probe.pl" or die $!;
print $pf 'use PAGI::Gateway::Worker::Codec; print PAGI::Gateway::Worker::Codec::implementation(), " ",',
    ' $PAGI::Gateway::Worker::XS::FILE // "-";';
close $pf;
sub probe {
    my ($lib, %env) = @_;
    local @ENV{ keys %env } = values %env;
    return scalar `$^X -I$lib $tmp/probe.pl 2>&1`;
}
is probe("$sdk/lib", PAGI_WORKER_PURE => 1), 'pure -', 'PAGI_WORKER_PURE=1 in a child';

# A copy of the SDK: lib/ alone runs pure without a word; with a built
# object beside it, XS; with a source newer than the object, pure and a warning.
system('cp', '-R', "$sdk/lib", "$tmp/lib") == 0 or die "cp: $?";
# (An installed copy on @INC, e.g. blib/arch under `make test`, is taken instead.)
like probe("$tmp/lib", PAGI_WORKER_PURE => ''), qr/\A(?:pure -|xs XSLoader)\z/, 'no compiled object: pure, nothing on stderr';

require Config;
my $so = "$sdk/blib/arch/auto/PAGI/Gateway/Worker/Worker.$Config::Config{dlext}";
SKIP: {
    skip 'the accelerator is not built in this tree', 2 unless -f $so;
    make_path("$tmp/blib/arch/auto/PAGI/Gateway/Worker");
    copy($so, "$tmp/blib/arch/auto/PAGI/Gateway/Worker/") or die "copy: $!";
    is probe("$tmp/lib", PAGI_WORKER_PURE => ''), "xs $tmp/blib/arch/auto/PAGI/Gateway/Worker/Worker.$Config::Config{dlext}",
        'the object next to lib/ is found';
    open my $fh, '>', "$tmp/Worker.xs" or die $!;
    close $fh;
    utime time + 10, time + 10, "$tmp/Worker.xs";
    like probe("$tmp/lib", PAGI_WORKER_PURE => ''), qr/older than Worker\.xs.*pure-Perl codec\n?(?:pure -|xs XSLoader)\z/s,
        'a stale object is refused with a warning';
}
done_testing;
