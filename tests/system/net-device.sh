#!/bin/bash
# The inside of one simulated device of tests/system/net-cache.sh, run by
# `ip netns exec` (which gives it its own mount namespace): the device gets
# its own /etc (an overlay, so that dhclient-script's resolv.conf stays
# inside), its own /run and its own /var/lib/dhcp, then waits.  The test
# enters this namespace pair with nsenter to run dhclient, secfud and
# secfuctl, so that everything the device runs sees the same files.
#
#   net-device.sh DEVICE-DIR
set -eu
d=$1
mkdir -p "$d/etc-upper" "$d/etc-work" "$d/dhcp"
mount --make-rprivate /
mount -t overlay secfu-etc -o "lowerdir=/etc,upperdir=$d/etc-upper,workdir=$d/etc-work" /etc
mount -t tmpfs -o mode=0755 secfu-run /run
mount --bind "$d/dhcp" /var/lib/dhcp
: >/etc/resolv.conf
echo $$ >"$d/ns-ready"   # this process becomes the sleep below
exec sleep 100000
