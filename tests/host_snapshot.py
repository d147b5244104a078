"""What a refusal must leave exactly as it was on a guest (issue 14's host snapshot): block devices,
device-mapper tables and status, LVM, loop devices, the state of the units the collection manages
and the sha256 of every file it manages. ``test_foreign_hosts`` proves on a guest that the
snapshot sees a one-byte change of a managed file and a loop device attached."""

# Where the collection's roles write (daemon.json, the pool's settings, units, drop-ins, boot
# script, LVM profiles) and where an admin's Docker settings live.
MANAGED_DIRS = ("/etc/docker /etc/devmapper-storage /etc/systemd/system /etc/lvm/profile "
                "/usr/local/sbin /etc/default/docker /etc/sysconfig /etc/containerd")
MANAGED_UNITS = "docker.service docker.socket containerd.service"

SNAPSHOT = (
    "set +e; lsblk -J 2>&1; dmsetup table 2>&1; dmsetup status 2>&1; "
    "pvs 2>&1; vgs 2>&1; lvs -a 2>&1; losetup -J 2>&1; "
    "for u in %s $(systemctl list-units --all --plain --no-legend 'devmapper-pool@*' "
    "| awk '{print $1}'); do echo \"$u $(systemctl is-active $u) $(systemctl is-enabled $u)\"; "
    "done 2>&1; "
    "find %s -type f -exec sha256sum {} + 2>/dev/null | sort; true" % (MANAGED_UNITS, MANAGED_DIRS))


def snapshot(guest):
    return guest.out(SNAPSHOT)
