SELECT epoch, status, lease_holder FROM runs WHERE id = $1 FOR SHARE;
