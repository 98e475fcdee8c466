package PAGI::Gateway::Worker::AppLoader;
# Loads a PAGI application file the way `pagi-server app.pl` does: the file
# is run with `do` and must return a code reference. The file's directory
# (and its lib/, when present) go into @INC so an app can load its modules.
use strict;
use warnings;
use File::Spec;
use File::Basename qw(dirname);

sub load {
    my ($path) = @_;
    die "pagi-worker-perl: no application file given\n" unless defined $path && length $path;
    my $abs = File::Spec->rel2abs($path);
    die "pagi-worker-perl: application file '$path' does not exist\n" unless -e $abs;
    die "pagi-worker-perl: application file '$path' is not readable\n" unless -r $abs;
    my $dir = dirname($abs);
    unshift @INC, grep { -d } "$dir/lib", $dir;
    # A fresh package so the file's lexicals and `package` statements behave
    # as under the reference runner.
    my $app = do {
        package PAGI::Gateway::Worker::AppLoader::Sandbox;
        do $abs;
    };
    die "pagi-worker-perl: failed to load '$path': $@" if $@;
    die "pagi-worker-perl: cannot read '$path': $!\n" if !defined $app && $!;
    die "pagi-worker-perl: '$path' must return a code reference (the PAGI app), got "
        . (defined $app ? (ref $app || "'$app'") : 'undef') . "\n"
        unless ref $app eq 'CODE';
    return $app;
}

1;
