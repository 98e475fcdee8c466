package PAGI::Gateway::Worker::AppLoader;
# Loads a PAGI application file the way `pagi-server app.pl` does: the file
# is run with `do` and must return a code reference. The file's directory
# (and its lib/, when present) go into @INC so an app can load its modules.
#
# load_app($path, $interface) also knows the other kinds: a .psgi file (or
# interface psgi) is a PSGI app wrapped in PAGI::Gateway::Worker::PSGI; a
# .cgi file or a directory (or interface cgi) is served by
# PAGI::Gateway::Worker::CGI. It returns a PAGI coderef or such an adapter.
use strict;
use warnings;
use File::Spec;
use File::Basename qw(dirname);

# pagi | psgi | cgi, from the name when not given.
sub interface_of {
    my ($path, $interface) = @_;
    return $interface if defined $interface && length $interface;
    return 'psgi' if $path =~ /\.psgi\z/;
    return 'cgi' if $path =~ /\.cgi\z/ || -d $path;
    return 'pagi';
}

sub load_app {
    my ($path, $interface, %opt) = @_;
    $interface = interface_of($path // '', $interface);
    if ($interface eq 'psgi') {
        require PAGI::Gateway::Worker::PSGI;
        return PAGI::Gateway::Worker::PSGI->new(app => load($path, 'PSGI'), name => $path);
    }
    if ($interface eq 'cgi') {
        require PAGI::Gateway::Worker::CGI;
        die "pagi-worker-perl: CGI target '$path' does not exist\n" unless defined $path && -e $path;
        return PAGI::Gateway::Worker::CGI->new(target => File::Spec->rel2abs($path), %opt);
    }
    die "pagi-worker-perl: unknown interface '$interface' (pagi, psgi or cgi)\n" unless $interface eq 'pagi';
    return load($path);
}

sub load {
    my ($path, $what) = @_;
    $what //= 'PAGI';
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
    die "pagi-worker-perl: '$path' must return a code reference (the $what app), got "
        . (defined $app ? (ref $app || "'$app'") : 'undef') . "\n"
        unless ref $app eq 'CODE';
    return $app;
}

1;
