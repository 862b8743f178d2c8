//! Serial port names as people type them and as each OS wants them, in one place, so the spec
//! parser, discovery, the error messages and other crates agree on what a port is called.
//!
//! * **Windows.** `COM3`, `com3`, `\\.\COM10` and `//./COM10` all name the same kind of port.
//!   The console keeps the people's form, `COM10` ([`normalize_port_name`]), in specs, the UI
//!   and messages. Only at open time does it become `\\.\COM10` (`os_port_path`): `CreateFile`
//!   opens `COM1`…`COM9` by their bare names, but `COM10` and above only through the `\\.\`
//!   device namespace. serialport 4.10 already adds `\\.\` to any name that does not start with
//!   `\` (`src/windows/com.rs`); the console adds it itself so it does not depend on that.
//! * **macOS.** Each USB-serial adapter appears twice: `/dev/tty.usbserial-X` (dial-in: an
//!   open is meant to wait for carrier detect) and `/dev/cu.usbserial-X` (call-out: opens at
//!   once). A timing console wants `cu.`; discovery lists only that one (`prefer_callout`).
//! * **Linux and other Unixes.** `/dev/ttyUSB0`, `/dev/ttyACM0`, `/dev/ttyS0`, the stable
//!   `/dev/serial/by-id/…` links, `/dev/rfcomm0`, pseudo-terminals (`/dev/pts/3`).

use std::collections::HashSet;

/// The number of a Windows COM port name (`COM3`, `com3`, `\\.\COM10`, `//./COM10`); `None`
/// for anything else.
fn com_number(name: &str) -> Option<u32> {
    let name = name.trim();
    let bare =
        [r"\\.\", "//./"].iter().find_map(|prefix| name.strip_prefix(prefix)).unwrap_or(name);
    let (com, digits) = bare.split_at_checked(3)?;
    if !com.eq_ignore_ascii_case("com")
        || digits.is_empty()
        || digits.len() > 5
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse::<u32>().ok().filter(|n| *n > 0)
}

/// Whether `path` names a serial port rather than a file: `/dev/tty*` (Linux `ttyUSB0`,
/// `ttyACM0`, `ttyS0`; macOS `tty.usbserial-X`), `/dev/cu.*` (macOS) and `/dev/cua*` (BSD),
/// `/dev/serial/…` (Linux by-id links), `/dev/rfcomm*`, `/dev/pts/*`, and Windows `COMn` in
/// any case, also as `\\.\COMn` or `//./COMn`. `/dev/tty` itself (the controlling terminal),
/// `/dev/stdin`, `/dev/null` and ordinary files are not.
pub fn looks_like_serial_port(path: &str) -> bool {
    let path = path.trim();
    if let Some(device) = path.strip_prefix("/dev/") {
        let named = |prefix: &str| device.len() > prefix.len() && device.starts_with(prefix);
        return named("tty")
            || named("cu.")
            || named("cua")
            || named("serial/")
            || named("rfcomm")
            || named("pts/");
    }
    com_number(path).is_some()
}

/// The form of a port name kept in specs and shown to people: Windows COM names become
/// `COMn` (`\\.\COM10`, `//./com10` and `com10` → `COM10`); every other name is returned as
/// given (trimmed).
pub fn normalize_port_name(path: &str) -> String {
    match com_number(path) {
        Some(n) => format!("COM{n}"),
        None => path.trim().to_string(),
    }
}

/// A COM name in the `\\.\COMn` form `CreateFile` needs from `COM10` on (used for every COM
/// number, harmless below 10); other names unchanged.
pub(crate) fn windows_device_path(path: &str) -> String {
    match com_number(path) {
        Some(n) => format!(r"\\.\COM{n}"),
        None => path.to_string(),
    }
}

/// What is handed to the OS to open `path`: on Windows the `\\.\` form of a COM name
/// ([`windows_device_path`]), elsewhere `path` itself.
pub(crate) fn os_port_path(path: &str) -> String {
    if cfg!(windows) { windows_device_path(path) } else { path.to_string() }
}

/// Drops each macOS dial-in device `/dev/tty.X` whose call-out twin `/dev/cu.X` is also in the
/// list (the one to open: it does not wait for carrier detect). Everything else stays, in order.
pub(crate) fn prefer_callout<T>(ports: Vec<T>, path: impl Fn(&T) -> &str) -> Vec<T> {
    let callouts: HashSet<String> =
        ports.iter().filter_map(|p| path(p).strip_prefix("/dev/cu.").map(str::to_owned)).collect();
    ports
        .into_iter()
        .filter(|p| {
            path(p).strip_prefix("/dev/tty.").is_none_or(|device| !callouts.contains(device))
        })
        .collect()
}

/// What a port's name alone says it is, for ports that report no USB details: macOS adapter and
/// built-in names, Linux driver names. `None` when the name says nothing.
pub(crate) fn kind_from_name(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if let Some(device) = name.strip_prefix("cu.").or_else(|| name.strip_prefix("tty.")) {
        let device = device.to_ascii_lowercase();
        return if device.starts_with("bluetooth-incoming-port") {
            Some("Bluetooth incoming port (not a reader)")
        } else if device.contains("debug-console") || device.starts_with("wlan-debug") {
            Some("macOS debug port (not a reader)")
        } else if device.contains("bluetooth") {
            Some("Bluetooth serial port")
        } else if ["usbserial", "usbmodem", "slab_usbtouart", "wchusbserial", "wchusbmodem"]
            .iter()
            .any(|usb| device.starts_with(usb))
        {
            Some("USB serial device")
        } else {
            None
        };
    }
    if name.starts_with("ttyUSB") || name.starts_with("ttyACM") {
        Some("USB serial device")
    } else if name.starts_with("rfcomm") {
        Some("Bluetooth serial port")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_ports_are_told_from_files() {
        for port in [
            "/dev/ttyUSB0",
            "/dev/ttyACM1",
            "/dev/ttyS0",
            "/dev/ttyAMA0",
            "/dev/tty.usbserial-A50285BI",
            "/dev/cu.usbserial-A50285BI",
            "/dev/cu.SLAB_USBtoUART",
            "/dev/cuaU0",
            "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0",
            "/dev/rfcomm0",
            "/dev/pts/3",
            "COM1",
            "COM3",
            "com3",
            "Com12",
            "COM256",
            r"\\.\COM10",
            r"\\.\com7",
            "//./COM10",
            "  COM4 ",
        ] {
            assert!(looks_like_serial_port(port), "{port} is a serial port");
        }
        for not in [
            "/dev/tty",
            "/dev/stdin",
            "/dev/null",
            "/dev/cu.",
            "/dev/serial/",
            "/tmp/reads.txt",
            "reads.txt",
            "-",
            "COM",
            "COM0",
            "COMPANY.txt",
            "COM3.txt",
            "COM-3",
            r"\\.\PIPE\x",
            r"C:\reads\COM3",
            "",
        ] {
            assert!(!looks_like_serial_port(not), "{not:?} is not a serial port");
        }
    }

    #[test]
    fn com_names_keep_the_form_people_read() {
        assert_eq!(normalize_port_name("COM3"), "COM3");
        assert_eq!(normalize_port_name("com3"), "COM3");
        assert_eq!(normalize_port_name("COM10"), "COM10");
        assert_eq!(normalize_port_name(r"\\.\COM10"), "COM10");
        assert_eq!(normalize_port_name(r"\\.\com12"), "COM12");
        assert_eq!(normalize_port_name("//./COM10"), "COM10");
        assert_eq!(normalize_port_name(" /dev/ttyUSB0 "), "/dev/ttyUSB0");
        assert_eq!(normalize_port_name("/dev/cu.usbserial-1420"), "/dev/cu.usbserial-1420");
        assert_eq!(normalize_port_name(r"\\.\CNCA0"), r"\\.\CNCA0", "not a COM name: as given");
    }

    #[test]
    fn windows_opens_com_ports_through_the_device_namespace() {
        assert_eq!(windows_device_path("COM10"), r"\\.\COM10");
        assert_eq!(windows_device_path("COM3"), r"\\.\COM3");
        assert_eq!(windows_device_path(r"\\.\COM10"), r"\\.\COM10", "never doubled");
        assert_eq!(windows_device_path("com11"), r"\\.\COM11");
        assert_eq!(windows_device_path(r"\\.\CNCA0"), r"\\.\CNCA0");
        if cfg!(windows) {
            assert_eq!(os_port_path("COM10"), r"\\.\COM10");
        } else {
            assert_eq!(os_port_path("/dev/ttyUSB0"), "/dev/ttyUSB0");
        }
    }

    #[test]
    fn macos_lists_the_callout_device_once() {
        let listed = vec![
            "/dev/cu.usbserial-A50285BI",
            "/dev/tty.usbserial-A50285BI",
            "/dev/cu.Bluetooth-Incoming-Port",
            "/dev/tty.Bluetooth-Incoming-Port",
            "/dev/tty.only-dialin",
            "/dev/ttyUSB0",
            "COM10",
        ];
        assert_eq!(
            prefer_callout(listed, |p| p),
            [
                "/dev/cu.usbserial-A50285BI",
                "/dev/cu.Bluetooth-Incoming-Port",
                "/dev/tty.only-dialin",
                "/dev/ttyUSB0",
                "COM10"
            ]
        );
        // Whatever order the OS lists them in.
        assert_eq!(
            prefer_callout(vec!["/dev/tty.usbmodem1101", "/dev/cu.usbmodem1101"], |p| p),
            ["/dev/cu.usbmodem1101"]
        );
        assert!(prefer_callout(Vec::<String>::new(), String::as_str).is_empty());
    }

    #[test]
    fn names_say_what_a_port_is() {
        assert_eq!(kind_from_name("/dev/cu.usbserial-A50285BI"), Some("USB serial device"));
        assert_eq!(kind_from_name("/dev/cu.SLAB_USBtoUART"), Some("USB serial device"));
        assert_eq!(kind_from_name("/dev/cu.usbmodem1101"), Some("USB serial device"));
        assert_eq!(
            kind_from_name("/dev/cu.Bluetooth-Incoming-Port"),
            Some("Bluetooth incoming port (not a reader)")
        );
        assert_eq!(
            kind_from_name("/dev/cu.debug-console"),
            Some("macOS debug port (not a reader)")
        );
        assert_eq!(kind_from_name("/dev/ttyUSB0"), Some("USB serial device"));
        assert_eq!(kind_from_name("/dev/rfcomm0"), Some("Bluetooth serial port"));
        assert_eq!(kind_from_name("/dev/ttyS0"), None);
        assert_eq!(kind_from_name("COM3"), None);
    }
}
