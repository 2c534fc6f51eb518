#!/usr/bin/python3
"""A stand-in for the desktop's notification service, for the VM suites:
owns org.freedesktop.Notifications on the session bus and writes each call
(Notify, CloseNotification) as a line to the file named first, then prints
"ready" once the name is owned.
   notifyd.py LOG"""
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

IFACE = "org.freedesktop.Notifications"
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
log = open(sys.argv[1], "a", buffering=1)


class Notices(dbus.service.Object):
    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        log.write(f"notify app={app} summary={summary} body={body}\n")
        return 7

    @dbus.service.method(IFACE, in_signature="u", out_signature="")
    def CloseNotification(self, notice):
        log.write(f"close {notice}\n")

    @dbus.service.method(IFACE, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("notifyd", "confine tests", "1", "1.2")


bus = dbus.SessionBus()
name = dbus.service.BusName(IFACE, bus)
Notices(bus, "/org/freedesktop/Notifications")
print("ready", flush=True)
GLib.MainLoop().run()
