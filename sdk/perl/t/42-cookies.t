# PAGI::Gateway::Cookies: signing, verification, tampering, key rotation.
use strict;
use warnings;
use Test2::V0;
use PAGI::Gateway::Cookies;

sub scope_with { my @c = @_; return { type => 'http', headers => [ map { [ 'cookie', $_ ] } @c ] } }
sub cookie_pair { my ($set) = @_; my ($pair) = split /;/, $set; return $pair }

my $c = PAGI::Gateway::Cookies->new(secrets => ['s3cret']);

subtest 'round trip' => sub {
    my $set = $c->set_signed('user', 'alice; admin=1 é', path => '/', httponly => 1, samesite => 'Lax', max_age => 60);
    like $set, qr/^user=[^; ]+; Path=\/; Max-Age=60; HttpOnly; SameSite=Lax$/;
    my $scope = scope_with(cookie_pair($set) . '; other=x');
    is $c->get_signed($scope, 'user'), "alice; admin=1 \xc3\xa9", 'verified value (UTF-8 bytes)';
    is $c->get($scope, 'other'), 'x', 'plain cookie';
    is $c->get_signed($scope, 'other'), undef, 'unsigned reads as absent';
    is $c->get_signed($scope, 'missing'), undef, 'absent';
};

subtest 'tampering' => sub {
    my $pair = cookie_pair($c->set_signed('role', 'user'));
    my ($value) = $pair =~ /^role=(.*)$/;
    (my $forged = $value) =~ s/^user/admin/;
    is $c->get_signed(scope_with("role=$forged"), 'role'), undef, 'changed value';
    (my $badsig = $value) =~ s/(.)$/$1 eq 'A' ? 'B' : 'A'/e;
    is $c->get_signed(scope_with("role=$badsig"), 'role'), undef, 'changed signature';
    is $c->get_signed(scope_with("other=$value"), 'other'), undef, 'signature bound to the cookie name';
    is $c->get_signed(scope_with('role=user.'), 'role'), undef, 'empty signature';
    is $c->get_signed(scope_with("role=$value"), 'role'), 'user', 'the original still verifies';
    my $other = PAGI::Gateway::Cookies->new(secrets => ['another']);
    is $other->get_signed(scope_with("role=$value"), 'role'), undef, 'another secret rejects it';
};

subtest 'key rotation' => sub {
    my $old = PAGI::Gateway::Cookies->new(secrets => ['old']);
    my $rotated = PAGI::Gateway::Cookies->new(secrets => [ 'new', 'old' ]);
    my $old_pair = cookie_pair($old->set_signed('sid', 'abc'));
    is $rotated->get_signed(scope_with($old_pair), 'sid'), 'abc', 'a cookie signed with the old secret still verifies';
    my $new_pair = cookie_pair($rotated->set_signed('sid', 'abc'));
    isnt $new_pair, $old_pair, 'new cookies are signed with the first secret';
    is $old->get_signed(scope_with($new_pair), 'sid'), undef, 'which the old secret alone rejects';
    my $retired = PAGI::Gateway::Cookies->new(secrets => ['new']);
    is $retired->get_signed(scope_with($old_pair), 'sid'), undef, 'after the old secret is dropped, old cookies are absent';
    is $retired->get_signed(scope_with($new_pair), 'sid'), 'abc';
};

subtest 'constructor and middleware' => sub {
    like dies { PAGI::Gateway::Cookies->new(secrets => []) }, qr/at least one/;
    like dies { PAGI::Gateway::Cookies->new(secrets => ['']) }, qr/at least one/;
    my $seen;
    my $app = $c->middleware(sub { $seen = $_[0]{'pagi.cookies'}; 'r' });
    is $app->({ type => 'http', headers => [] }), 'r';
    ref_is $seen, $c;
};

done_testing;
