# AppArmor profile {{PROFILE}}, written by confine for a classic snap: the
# app is not confined, the profile only gives it its own label. Do not edit.
#include <tunables/global>

{{VARIABLES}}

profile "{{PROFILE}}" flags=({{FLAGS}}) {
  # Everything a process may do, in complain mode.
  / rwkl,
  /** rwlkm,
  /** pix,
  capability,
  change_profile unsafe /**,
  dbus,
  network,
  mount,
  remount,
  umount,
  pivot_root,
  ptrace,
  signal,
  unix,
}
