//! Why a serial port would not open, put in words a volunteer can act on. The usual failure
//! right after installing is permission: on Linux the user must be in the group that owns the
//! device (`dialout` on Debian/Ubuntu/Fedora, `uucp` on Arch), and on Windows "Access is
//! denied" nearly always means another program has the port open. [`open_error`] turns the
//! `serialport` error into a [`TransportError`] whose message is the one-line fix.
//!
//! The group is read from the device node's group owner and `/etc/group` ([`group_name`]); when
//! that says nothing useful (no entry, or `root`) the fix names `dialout`.

use std::io::ErrorKind;

use super::TransportError;
use super::names::normalize_port_name;

/// The OS a message is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Os {
    /// Linux: device groups, `usermod`.
    Linux,
    /// macOS.
    Mac,
    /// Windows: COM ports, "Access is denied" = in use.
    Windows,
    /// Another Unix (BSD).
    OtherUnix,
}

impl Os {
    /// The OS this build runs on.
    pub(crate) const CURRENT: Os = if cfg!(target_os = "linux") {
        Os::Linux
    } else if cfg!(target_os = "macos") {
        Os::Mac
    } else if cfg!(windows) {
        Os::Windows
    } else {
        Os::OtherUnix
    };
}

/// The group a Linux fix names when the device's own group is unknown or `root`.
pub(crate) const DEFAULT_GROUP: &str = "dialout";

/// What explains a failed open, looked up only when an error needs it.
pub(crate) trait PortFacts {
    /// The port is there: its device node exists (Unix) or the OS lists it (Windows).
    fn present(&self, path: &str) -> bool;
    /// The name of the group that owns the device node (Unix).
    fn group(&self, path: &str) -> Option<String>;
}

/// The facts of this machine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SystemFacts;

impl PortFacts for SystemFacts {
    fn present(&self, path: &str) -> bool {
        super::serial::present(path)
    }

    fn group(&self, path: &str) -> Option<String> {
        device_group(path)
    }
}

#[cfg(unix)]
fn device_group(path: &str) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let gid = std::fs::metadata(path).ok()?.gid();
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    group_name(&groups, gid)
}

#[cfg(not(unix))]
fn device_group(_path: &str) -> Option<String> {
    None
}

/// The name of group `gid` in the text of an `/etc/group` file (`name:password:gid:members`
/// lines; comments, blank and malformed lines are skipped).
pub(crate) fn group_name(etc_group: &str, gid: u32) -> Option<String> {
    etc_group.lines().find_map(|line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let mut fields = line.split(':');
        let name = fields.next().filter(|n| !n.is_empty())?;
        let _password = fields.next()?;
        let id = fields.next()?.trim().parse::<u32>().ok()?;
        (id == gid).then(|| name.to_string())
    })
}

/// The one-line fix for a port the OS would not let us open. `group`: the device node's group
/// (Linux).
pub(crate) fn permission_fix(path: &str, os: Os, group: Option<&str>) -> String {
    let port = normalize_port_name(path);
    match os {
        Os::Linux => {
            let group = group.filter(|g| !g.is_empty() && *g != "root").unwrap_or(DEFAULT_GROUP);
            format!(
                "no permission to open {port}: add yourself to the `{group}` group with \
                 `sudo usermod -aG {group} $USER`, then log out and in again"
            )
        }
        Os::Mac => format!(
            "macOS refused to open {port}: quit any other program using it (another timing \
             program, a terminal such as screen), then unplug the adapter and plug it in again"
        ),
        Os::Windows => format!(
            "{port} is in use by another program (close it: another timing program, a terminal) \
             or you lack access"
        ),
        Os::OtherUnix => format!(
            "no permission to open {port}: ask the computer's administrator to give your user \
             read and write access to it"
        ),
    }
}

/// The description says the OS refused access (for errors whose kind does not).
fn says_denied(description: &str) -> bool {
    let text = description.to_ascii_lowercase();
    ["permission denied", "access is denied", "access denied", "eacces"]
        .iter()
        .any(|words| text.contains(words))
}

/// The error for a failed open of `path`:
/// * [`TransportError::NotFound`] when the port is not there (unplugged);
/// * [`TransportError::PermissionDenied`] with the fix for `os` when the OS refused access —
///   `Io(PermissionDenied)` (EACCES), the words in the description, or on Windows a port the
///   OS lists but would not open (serialport reports `ERROR_ACCESS_DENIED` like a missing
///   port, as `NoDevice`);
/// * [`TransportError::Open`] with the OS's words otherwise.
pub(crate) fn open_error(
    path: &str,
    error: &serialport::Error,
    os: Os,
    facts: &dyn PortFacts,
) -> TransportError {
    let denied = |path: &str| TransportError::PermissionDenied {
        path: normalize_port_name(path),
        fix: permission_fix(path, os, facts.group(path).as_deref()),
    };
    let not_found = || TransportError::NotFound(normalize_port_name(path));
    match &error.kind {
        serialport::ErrorKind::Io(ErrorKind::NotFound) => not_found(),
        serialport::ErrorKind::Io(ErrorKind::PermissionDenied) => denied(path),
        _ if says_denied(&error.description) => denied(path),
        serialport::ErrorKind::NoDevice if os == Os::Windows => {
            if facts.present(path) {
                denied(path)
            } else {
                not_found()
            }
        }
        _ if os != Os::Windows && !facts.present(path) => not_found(),
        _ => TransportError::Open {
            target: normalize_port_name(path),
            message: error.description.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A machine where the port is (or is not) there and its node belongs to `group`.
    struct Facts {
        present: bool,
        group: Option<&'static str>,
    }

    impl PortFacts for Facts {
        fn present(&self, _path: &str) -> bool {
            self.present
        }

        fn group(&self, _path: &str) -> Option<String> {
            self.group.map(str::to_string)
        }
    }

    const THERE: Facts = Facts { present: true, group: Some("dialout") };

    fn io(kind: ErrorKind) -> serialport::Error {
        serialport::Error::from(std::io::Error::from(kind))
    }

    #[test]
    fn permission_denied_becomes_the_one_line_fix() {
        let error = open_error("/dev/ttyUSB0", &io(ErrorKind::PermissionDenied), Os::Linux, &THERE);
        assert_eq!(
            error,
            TransportError::PermissionDenied {
                path: "/dev/ttyUSB0".into(),
                fix: "no permission to open /dev/ttyUSB0: add yourself to the `dialout` group \
                      with `sudo usermod -aG dialout $USER`, then log out and in again"
                    .into(),
            }
        );
        assert_eq!(
            error.to_string(),
            "no permission to open /dev/ttyUSB0: add yourself to the `dialout` group with \
             `sudo usermod -aG dialout $USER`, then log out and in again"
        );
    }

    #[test]
    fn the_fix_names_the_group_that_owns_the_device() {
        let arch = Facts { present: true, group: Some("uucp") };
        let error = open_error("/dev/ttyACM0", &io(ErrorKind::PermissionDenied), Os::Linux, &arch);
        assert!(error.to_string().contains("`uucp` group with `sudo usermod -aG uucp $USER`"));
        for unhelpful in [None, Some("root"), Some("")] {
            let facts = Facts { present: true, group: unhelpful };
            let error =
                open_error("/dev/ttyUSB0", &io(ErrorKind::PermissionDenied), Os::Linux, &facts);
            assert!(error.to_string().contains("`dialout` group"), "{unhelpful:?}: {error}");
        }
    }

    #[test]
    fn eacces_in_the_description_is_permission_denied_too() {
        let error = serialport::Error::new(serialport::ErrorKind::Unknown, "Permission denied");
        let mapped = open_error("/dev/ttyUSB0", &error, Os::Linux, &THERE);
        assert!(matches!(mapped, TransportError::PermissionDenied { .. }), "{mapped:?}");
        let windows = serialport::Error::new(serialport::ErrorKind::Unknown, "Access is denied.");
        let mapped = open_error("COM3", &windows, Os::Windows, &THERE);
        assert!(matches!(mapped, TransportError::PermissionDenied { .. }), "{mapped:?}");
    }

    #[test]
    fn windows_access_denied_means_the_port_is_in_use() {
        // serialport reports ERROR_ACCESS_DENIED as NoDevice, in the system's language.
        let error = serialport::Error::new(serialport::ErrorKind::NoDevice, "Zugriff verweigert");
        let mapped = open_error(r"\\.\COM10", &error, Os::Windows, &THERE);
        assert_eq!(
            mapped.to_string(),
            "COM10 is in use by another program (close it: another timing program, a terminal) \
             or you lack access"
        );
        assert_eq!(
            mapped,
            TransportError::PermissionDenied { path: "COM10".into(), fix: mapped.to_string() }
        );
        // A port Windows does not list is unplugged.
        let gone = Facts { present: false, group: None };
        let missing = serialport::Error::new(
            serialport::ErrorKind::NoDevice,
            "The system cannot find the file specified.",
        );
        assert_eq!(
            open_error("COM10", &missing, Os::Windows, &gone),
            TransportError::NotFound("COM10".into())
        );
    }

    #[test]
    fn macos_and_other_unixes_get_their_own_words() {
        let mac =
            open_error("/dev/cu.usbserial-1420", &io(ErrorKind::PermissionDenied), Os::Mac, &THERE);
        assert!(mac.to_string().starts_with("macOS refused to open /dev/cu.usbserial-1420: "));
        assert!(!mac.to_string().contains("usermod"));
        let bsd = open_error("/dev/cuaU0", &io(ErrorKind::PermissionDenied), Os::OtherUnix, &THERE);
        assert!(bsd.to_string().starts_with("no permission to open /dev/cuaU0: "), "{bsd}");
    }

    #[test]
    fn other_failures_keep_the_os_words_or_say_unplugged() {
        let busy =
            serialport::Error::new(serialport::ErrorKind::NoDevice, "Device or resource busy");
        assert_eq!(
            open_error("/dev/ttyUSB0", &busy, Os::Linux, &THERE),
            TransportError::Open {
                target: "/dev/ttyUSB0".into(),
                message: "Device or resource busy".into()
            }
        );
        let gone = Facts { present: false, group: None };
        assert_eq!(
            open_error("/dev/ttyUSB0", &busy, Os::Linux, &gone),
            TransportError::NotFound("/dev/ttyUSB0".into())
        );
        assert_eq!(
            open_error("/dev/ttyUSB0", &io(ErrorKind::NotFound), Os::Linux, &THERE),
            TransportError::NotFound("/dev/ttyUSB0".into())
        );
    }

    #[test]
    fn group_names_come_from_etc_group() {
        let etc_group = "\
# /etc/group
root:x:0:
tty:x:5:
uucp:x:14:alice,bob

broken line
dialout:x:20:carol
plugdev:x:46:
";
        assert_eq!(group_name(etc_group, 20).as_deref(), Some("dialout"));
        assert_eq!(group_name(etc_group, 14).as_deref(), Some("uucp"));
        assert_eq!(group_name(etc_group, 0).as_deref(), Some("root"));
        assert_eq!(group_name(etc_group, 999), None);
        assert_eq!(group_name("", 20), None);
        assert_eq!(group_name(":x:20:\nx:y:notanumber:", 20), None);
    }

    #[cfg(unix)]
    #[test]
    fn the_group_of_a_real_node_is_found() {
        use std::os::unix::fs::MetadataExt as _;
        let file = tempfile::NamedTempFile::new().unwrap();
        let path = file.path().to_string_lossy().into_owned();
        let gid = std::fs::metadata(&path).unwrap().gid();
        let expected = std::fs::read_to_string("/etc/group").ok().and_then(|g| group_name(&g, gid));
        assert_eq!(SystemFacts.group(&path), expected);
        assert!(SystemFacts.present(&path));
        assert!(!SystemFacts.present("/dev/no-such-port-for-sure"));
    }
}
