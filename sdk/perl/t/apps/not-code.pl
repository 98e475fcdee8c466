# Returns a hash reference instead of an app.
return { not => 'an app' };
