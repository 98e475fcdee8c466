package PAGI::Gateway::Worker::XS;
# Finds and loads the optional compiled accelerator of the wire codec
# (Worker.xs, pagi_decode.c, pagi_send.c in the SDK directory; docs/perl.md "XS
# accelerator"). Codec.pm and FastFrames.pm call load() and use the XS
# functions only when it returns true; otherwise they run their pure-Perl
# code, silently: a tree without a C compiler works the same, only slower.
#
# Where it looks, in order:
#   1. <sdk>/blib/arch/auto/PAGI/Gateway/Worker/Worker.so next to this lib/
#      (what `make build` and `perl Makefile.PL && make` in sdk/perl
#      produce), skipped with a warning when older than its sources;
#   2. an installed copy on @INC (`make install` of the distribution).
# PAGI_WORKER_PURE=1 in the environment forces the pure path.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;

our $VERSION = '0.01';

# The interface version this Perl side speaks (PAGI_XS_API in pagi_xs.h).
my $API = 2;

our $LOADED;         # undef: not tried yet; 1 or 0 after load()
our $WHY = '';       # why the pure path runs (for tests and diagnostics)
our $FILE;           # the object loaded

sub load {
    return $LOADED if defined $LOADED;
    $LOADED = 0;
    if ($ENV{PAGI_WORKER_PURE}) { $WHY = 'PAGI_WORKER_PURE is set'; return 0 }
    my $sdk = File::Spec->rel2abs(__FILE__);
    $sdk = dirname($sdk) for 1 .. 5;    # lib/PAGI/Gateway/Worker/XS.pm
    my $so = File::Spec->catfile($sdk, qw(blib arch auto PAGI Gateway Worker), 'Worker.' . _dlext());
    my $ok = -f $so ? _load_file($sdk, $so) : _load_installed();
    return 0 unless $ok;
    if ((my $api = api_version()) != $API) {
        $WHY = "$FILE speaks interface $api, this SDK $API (rebuild it)";
        warn "PAGI::Gateway::Worker::XS: $WHY; using the pure-Perl codec\n";
        return 0;
    }
    return $LOADED = 1;
}

sub _dlext { require Config; $Config::Config{dlext} }

# The in-tree build: refused when a source is newer (a checkout or an edit
# since the last build), so a stale object never runs.
sub _load_file {
    my ($sdk, $so) = @_;
    my $built = (stat $so)[9];
    for my $src (qw(Worker.xs pagi_decode.c pagi_send.c pagi_xs.h)) {
        my $t = (stat File::Spec->catfile($sdk, $src))[9];
        next unless defined $t && $t > $built;
        $WHY = "$so is older than $src";
        warn "PAGI::Gateway::Worker::XS: $WHY (run `make build`); using the pure-Perl codec\n";
        return 0;
    }
    require DynaLoader;
    my $ok = eval {
        my $lib = DynaLoader::dl_load_file($so, 0) or die DynaLoader::dl_error() . "\n";
        my $sym = DynaLoader::dl_find_symbol($lib, 'boot_PAGI__Gateway__Worker')
            or die "no boot_PAGI__Gateway__Worker in $so\n";
        my $boot = DynaLoader::dl_install_xsub('PAGI::Gateway::Worker::XS::_boot', $sym, $so);
        push @DynaLoader::dl_shared_objects, $so;
        $boot->('PAGI::Gateway::Worker');
        1;
    };
    if (!$ok) {
        $WHY = "cannot load $so: $@";
        warn "PAGI::Gateway::Worker::XS: $WHY";
        return 0;
    }
    $FILE = $so;
    return 1;
}

# An installed distribution: XSLoader finds auto/PAGI/Gateway/Worker on @INC.
sub _load_installed {
    require XSLoader;
    if (eval { XSLoader::load('PAGI::Gateway::Worker'); 1 }) {
        $FILE = 'XSLoader';
        return 1;
    }
    $WHY = 'no compiled accelerator found';
    return 0;
}

1;
