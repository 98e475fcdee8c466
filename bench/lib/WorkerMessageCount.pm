package WorkerMessageCount;
# Diagnostic for the Perl worker: counts the messages it receives by type and
# prints them, with the number of scopes it still holds, on SIGUSR1.
#   PERL5OPT="-I$PWD/bench/lib -MWorkerMessageCount" build/pagi-gateway ... app.pl
#   kill -USR1 <worker pid>    # "message-count <pid> live_scopes=N open:...,responseDone:..."
# It wraps a private method of PAGI::Gateway::Worker, so it follows the SDK.
use strict;
use warnings;
use File::Basename ();
use lib File::Basename::dirname(__FILE__) . '/../../sdk/perl/lib';
require PAGI::Gateway::Worker;

my (%count, $worker);
{
    no warnings 'redefine';
    my $orig = \&PAGI::Gateway::Worker::_on_message;
    *PAGI::Gateway::Worker::_on_message = sub { $worker = $_[0]; $count{ $_[1]{type} }++; $orig->(@_) };
}
$SIG{USR1} = sub {
    my $live = $worker ? scalar(keys %{ $worker->{scopes} }) : 0;
    print STDERR "message-count $$ live_scopes=$live "
        . join(',', map {"$_:$count{$_}"} sort keys %count) . "\n";
};
1;
