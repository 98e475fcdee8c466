package ScopeHarness;
# Runs an HttpScope in-process with a recording context: the app is a stub
# that hands out $scope/$receive/$send and finishes when told to.
use strict;
use warnings;
use Future;
use PAGI::Gateway::Worker::HttpScope;
use PAGI::Gateway::Worker::ScopeBuilder;

sub new {
    my ($class, %args) = @_;
    my $self = bless { sent => [], logs => [], finished => 0 }, $class;
    my %open = (scope => 5, type => 'open', scopeType => 'http', httpVersion => '1.1', method => 'GET',
                scheme => 'http', path => '/t', rawPath => '/t', queryString => '', rootPath => '',
                headers => [], clientHost => '', clientPort => 0, serverHost => '', serverPort => 0,
                serverIsUnix => 0, subprotocols => [], routeParams => [], requestId => '', extensions => 0,
                hasBody => 1, body => '', more => 0, expectContinue => 0, %{ $args{open} || {} });
    my $ctx = {
        send     => sub { push @{ $self->{sent} }, $_[0] },
        log      => sub { push @{ $self->{logs} }, $_[0] },
        finished => sub { $self->{finished}++ },
        settings => { sendWindow => 100, receiveWindow => 100, maxMessageBytes => 1 << 20, %{ $args{settings} || {} } },
    };
    my $scope = PAGI::Gateway::Worker::ScopeBuilder::build(\%open, {});
    $self->{scope_obj} = PAGI::Gateway::Worker::HttpScope->new(open => \%open, ctx => $ctx, scope => $scope);
    $self->{app_done} = Future->new;
    my $behaviour = $args{app};
    $self->{scope_obj}->run(sub {
        @$self{qw(scope receive send)} = @_;
        return $behaviour ? $behaviour->(@_) : $self->{app_done};
    });
    return $self;
}

sub send    { my $s = shift; $s->{send}->(@_) }
sub receive { $_[0]{receive}->() }
sub scope   { $_[0]{scope} }
sub conn    { $_[0]{scope}{'pagi.connection'} }
sub gateway { my $s = shift; $s->{scope_obj}->on_message({ scope => 5, @_ }) }
sub finish  { $_[0]{app_done}->done }
sub fail    { $_[0]{app_done}->fail($_[1]) }
# Messages sent since the last call.
sub take    { my $s = shift; my @m = @{ $s->{sent} }; $s->{sent} = []; \@m }
sub types   { [ map { $_->{type} } @{ $_[0]->take } ] }

1;
