#!/bin/sh
# RUFUS Timing Console: after install (Debian postinst / RPM %post).
# Timing readers on USB-serial adapters (/dev/ttyUSB*, /dev/ttyACM*) can only be opened by
# members of the group that owns those devices: say so once, with the exact command.
set -e
group=dialout
if ! getent group dialout >/dev/null 2>&1 && getent group uucp >/dev/null 2>&1; then
    group=uucp
fi
cat <<MSG
RUFUS Timing Console is installed (desktop app "RUFUS Timing Console", headless "timing-cli").
Serial timing readers: your user must be in the "$group" group to open /dev/ttyUSB0 and similar.
    sudo usermod -aG $group \$USER
then log out and in again (once per computer).
MSG
exit 0
