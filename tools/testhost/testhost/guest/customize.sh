#!/bin/sh
# Runs inside the freshly debootstrapped root (chroot) to turn it into a test-host guest image.
# Every guest boots from this root through its own copy-on-write layer, so nothing here may be
# guest-specific: the guest's name and address come from the kernel command line at boot.
set -eu
KVER="$1"

depmod "$KVER"

# No boot-time fsck: ext4's journal is replayed at mount, which is what a power-cut test needs,
# and a full check would add seconds to every boot.
cat > /etc/fstab <<'FSTAB'
/dev/ubda / ext4 defaults,noatime 0 0
FSTAB

# An empty machine-id makes systemd generate a distinct one per guest on first boot.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id

install -m 0755 /tmp/testhost-guest/testhost-net /usr/local/sbin/testhost-net
install -m 0644 /tmp/testhost-guest/testhost-net.service /etc/systemd/system/testhost-net.service
systemctl enable testhost-net.service

# Slow ssh logins came from PAM and DNS look-ups; tests only ever log in as root with a key.
mkdir -p /etc/ssh/sshd_config.d /root/.ssh
cat > /etc/ssh/sshd_config.d/testhost.conf <<'SSHD'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PermitUserEnvironment SYSTEMCTL_SKIP_SYSV
SSHD
install -m 0600 /tmp/testhost-guest/authorized_keys /root/.ssh/authorized_keys
# `systemctl enable docker` also syncs docker.io's SysV script through update-rc.d (perl, which
# took 8 s of a guest's CPU per enable); nothing on a test host boots through SysV links, so
# logins (Ansible's, the tests') skip that sync.
echo SYSTEMCTL_SKIP_SYSV=1 > /root/.ssh/environment
chmod 0600 /root/.ssh/environment
chmod 0700 /root/.ssh

# Roles decide when the container engines start; a guest must boot with none running so that
# the storage driver can still be chosen.
for unit in docker.service docker.socket containerd.service; do
    systemctl disable "$unit" 2>/dev/null || true
done

# Nothing reads a console login on a test host, and timers would only steal the two host cores;
# nor does anything here use binfmt, fuse, pstore, configfs, utmp or a saved random seed (each of
# those units took ~1 s of a booting guest's CPU; a boot is ~10 s and the suite boots ~40 times).
for unit in getty@tty1.service serial-getty@ttyS0.service console-getty.service \
            apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer \
            systemd-timesyncd.service e2scrub_reap.service getty-static.service \
            systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
            modprobe@efi_pstore.service modprobe@fuse.service sys-fs-fuse-connections.mount \
            modprobe@configfs.service modprobe@drm.service sys-kernel-config.mount \
            systemd-random-seed.service \
            systemd-update-utmp.service systemd-update-utmp-runlevel.service; do
    systemctl mask "$unit" 2>/dev/null || true
done

# The UML kernel exposes ~600 virtual ttys; coldplugging them through udev held boot up by ~10 s
# (devtmpfs already made their nodes). Every other device still gets its udev events.
# udevadm before systemd 251 (bullseye's 247) knows neither --prioritized-subsystem nor
# --type=all: there, subsystems and devices are triggered one after the other, as its own unit does.
mkdir -p /etc/systemd/system/systemd-udev-trigger.service.d
if udevadm trigger --help 2>&1 | grep -q prioritized-subsystem; then
    cat > /etc/systemd/system/systemd-udev-trigger.service.d/testhost.conf <<'UNIT'
[Service]
ExecStart=
ExecStart=-udevadm trigger --type=all --action=add --prioritized-subsystem=module,block,tpmrm,net,input --subsystem-nomatch=tty
UNIT
else
    cat > /etc/systemd/system/systemd-udev-trigger.service.d/testhost.conf <<'UNIT'
[Service]
ExecStart=
ExecStart=-udevadm trigger --type=subsystems --action=add --subsystem-nomatch=tty
ExecStart=-udevadm trigger --type=devices --action=add --subsystem-nomatch=tty
UNIT
fi

# A file repository holding docker.io's package (its dependencies stay installed when a test
# removes docker.io), for tests of installing Docker on a host that has none. Not in any apt
# source: a test adds `deb [trusted=yes] file:/opt/testhost-repo ./` when it needs it.
mkdir -p /opt/testhost-repo
cp /var/cache/apt/archives/docker.io_*.deb /opt/testhost-repo/
(
    cd /opt/testhost-repo
    for deb in *.deb; do
        dpkg-deb --field "$deb"
        echo "Filename: ./$deb"
        echo "Size: $(stat -c %s "$deb")"
        echo "SHA256: $(sha256sum "$deb" | cut -d' ' -f1)"
        echo
    done > Packages
)

systemctl set-default multi-user.target
# What systemd does once after /usr changed (ldconfig, the journal's catalog; the units with
# ConditionNeedsUpdate), done here: every guest boots from the image's state, so on trixie each
# boot ran them again (3 s of a guest's CPU).
ldconfig
journalctl --update-catalog 2>/dev/null || true
for done in /lib/systemd/systemd-update-done /usr/lib/systemd/systemd-update-done; do
    if [ -x "$done" ]; then "$done"; break; fi
done
echo testhost > /etc/hostname
apt-get clean
rm -rf /var/lib/apt/lists/* /tmp/testhost-guest
