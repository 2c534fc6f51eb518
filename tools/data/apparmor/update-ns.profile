# AppArmor profile {{PROFILE}}, written by confine: what snap-update-ns may
# do while it arranges the mount namespace of snap {{INSTANCE}}. Do not edit.
#include <tunables/global>

{{VARIABLES}}

profile "{{PROFILE}}" flags=(attach_disconnected) {
  # The program itself, from the host or from a core/snapd snap.
  /usr/lib/snapd/snap-update-ns mr,
  /usr/lib/confine/snap-update-ns mr,
  /snap/{core,snapd}/*/usr/lib/snapd/snap-update-ns mr,
  /{,usr/}lib{,32,64}/{,@{multiarch}/}ld-*.so* mr,
  /{,usr/}lib{,32,64}/{,@{multiarch}/}libc{,-[0-9]*}.so* mr,
  /{,usr/}lib{,32,64}/{,@{multiarch}/}libpthread{,-[0-9]*}.so* mr,
  /etc/ld.so.cache r,
  /etc/ld.so.preload r,
  /dev/null rw,
  /dev/full rw,
  /dev/zero rw,
  /dev/random r,
  /dev/urandom r,
  @{PROC}/@{pid}/maps r,
  @{PROC}/@{pid}/status r,
  @{PROC}/@{pid}/mountinfo r,
  @{PROC}/sys/kernel/cap_last_cap r,

  # It never talks to the network.
  deny network inet,
  deny network inet6,

  # Its lock, the saved namespace and the mount profiles of this snap.
  /run/snapd/lock/ r,
  /run/snapd/lock/.lock rwk,
  /run/snapd/lock/{{INSTANCE}}.lock rwk,
  /run/snapd/ns/ r,
  /run/snapd/ns/{{INSTANCE}}.mnt r,
  /var/lib/snapd/mount/snap.{{INSTANCE}}.fstab r,
  /var/lib/snapd/mount/snap.{{INSTANCE}}.user-fstab r,
  /run/snapd/ns/snap.{{INSTANCE}}.fstab{,.*} rw,
  /run/snapd/ns/snap.{{INSTANCE}}.user-fstab{,.*} rw,
  /run/snapd/ns/snap.{{INSTANCE}}.log rw,

  capability sys_admin,
  capability chown,
  capability setuid,
  capability setgid,
  capability dac_override,

  # Freezing the snap's processes while mounts change.
  /sys/fs/cgroup/freezer/snap.{{INSTANCE}}/freezer.state rw,
  /sys/fs/cgroup/{,unified/}{,**/}snap.{{INSTANCE}}.*.{scope,service}/cgroup.freeze rw,
  /sys/fs/cgroup/{,unified/}{,**/}snap.{{INSTANCE}}.*.{scope,service}/ r,

  # Mount propagation and the directories it walks through.
  mount options=(rslave) -> /,
  / r,
  /etc/ r,
  /snap/ r,
  /tmp/ r,
  /usr/ r,
  /var/ r,
  /var/lib/ r,
  /var/lib/snapd/ r,
  /var/snap/ r,
  /tmp/.snap/ rw,
  /tmp/.snap/** rw,
  # Never over the command wrappers, never onto /media.
  audit deny mount -> /snap/bin/{,**},
  audit deny mount /snap/bin/{,**} -> /**,
  audit deny mount -> /media{,/**},

  signal (receive) peer=unconfined,
  signal peer=@{profile_name},

  # ---- Interfaces and layouts.
{{SNIPPETS}}
}
