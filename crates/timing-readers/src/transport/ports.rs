//! Serial port discovery for the "pick your reader" list: what is plugged in, described the way
//! a person recognises it ("CP2102 USB to UART Bridge Controller on /dev/ttyUSB0").
//!
//! On macOS each adapter is listed once, as its call-out device `/dev/cu.X` (the dial-in twin
//! `/dev/tty.X` waits for carrier detect and is left out); Windows ports are listed as `COMn`.
//! Ports that report no USB details are described from their names (`/dev/cu.usbserial-X` is a
//! USB serial device, `/dev/cu.Bluetooth-Incoming-Port` is not a reader).

use serialport::SerialPortType;

use super::names::{kind_from_name, normalize_port_name, prefer_callout};

/// How a serial port is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortKind {
    /// A USB-serial adapter or a USB CDC device.
    Usb,
    /// A built-in (PCI) port.
    Pci,
    /// A Bluetooth serial port.
    Bluetooth,
    /// Anything else (a pseudo-terminal, an unknown driver).
    Unknown,
}

/// One serial port the OS offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// The path to open (`/dev/ttyUSB0`, `COM3`).
    pub path: String,
    /// How it is attached.
    pub kind: PortKind,
    /// USB vendor id.
    pub vid: Option<u16>,
    /// USB product id.
    pub pid: Option<u16>,
    /// USB serial number.
    pub serial_number: Option<String>,
    /// USB manufacturer string.
    pub manufacturer: Option<String>,
    /// USB product string.
    pub product: Option<String>,
    /// One line for people, e.g. "CP2102 USB to UART Bridge Controller on /dev/ttyUSB0".
    pub description: String,
}

/// The serial ports present now (empty when the OS cannot list them); on macOS the `cu.`
/// device of each adapter, not its `tty.` twin.
pub fn ports() -> Vec<PortInfo> {
    let Ok(found) = serialport::available_ports() else { return Vec::new() };
    prefer_callout(found, |port| port.port_name.as_str())
        .into_iter()
        .map(|port| {
            let (kind, usb) = match port.port_type {
                SerialPortType::UsbPort(usb) => (PortKind::Usb, Some(usb)),
                SerialPortType::PciPort => (PortKind::Pci, None),
                SerialPortType::BluetoothPort => (PortKind::Bluetooth, None),
                SerialPortType::Unknown => (PortKind::Unknown, None),
            };
            let (vid, pid) = (usb.as_ref().map(|u| u.vid), usb.as_ref().map(|u| u.pid));
            let (serial_number, manufacturer, product) = match usb {
                Some(u) => (u.serial_number, u.manufacturer, u.product),
                None => (None, None, None),
            };
            let path = normalize_port_name(&port.port_name);
            let description = describe_port(&path, kind, vid, pid, product.as_deref());
            PortInfo { path, kind, vid, pid, serial_number, manufacturer, product, description }
        })
        .collect()
}

/// USB-serial chips common in timing hardware, by vendor:product id.
const KNOWN_CHIPS: &[(u16, Option<u16>, &str)] = &[
    (0x10C4, Some(0xEA60), "CP210x USB to UART Bridge"),
    (0x10C4, None, "Silicon Labs USB-serial adapter"),
    (0x0403, Some(0x6001), "FTDI FT232R USB-serial adapter"),
    (0x0403, Some(0x6010), "FTDI FT2232 USB-serial adapter"),
    (0x0403, Some(0x6014), "FTDI FT232H USB-serial adapter"),
    (0x0403, Some(0x6015), "FTDI FT231X USB-serial adapter"),
    (0x0403, None, "FTDI USB-serial adapter"),
    (0x1A86, Some(0x7523), "CH340 USB-serial adapter"),
    (0x1A86, Some(0x55D4), "CH9102 USB-serial adapter"),
    (0x1A86, None, "WCH USB-serial adapter"),
    (0x067B, Some(0x2303), "Prolific PL2303 USB-serial adapter"),
    (0x067B, None, "Prolific USB-serial adapter"),
];

/// The description of a port: its USB product string, else a known chip's name, else what its
/// name says (`/dev/cu.usbserial-X`: a USB serial device), else a generic phrase, followed by
/// "on" and the path as people name it (`\\.\COM10` → `COM10`).
pub fn describe_port(
    path: &str,
    kind: PortKind,
    vid: Option<u16>,
    pid: Option<u16>,
    product: Option<&str>,
) -> String {
    let known = vid.and_then(|vid| {
        KNOWN_CHIPS
            .iter()
            .find(|(v, p, _)| *v == vid && *p == pid)
            .or_else(|| KNOWN_CHIPS.iter().find(|(v, p, _)| *v == vid && p.is_none()))
            .map(|(_, _, name)| *name)
    });
    let what = match (product.map(str::trim).filter(|p| !p.is_empty()), known, kind) {
        (Some(product), _, _) => product.to_string(),
        (None, Some(chip), _) => chip.to_string(),
        (None, None, PortKind::Usb) => match (vid, pid) {
            (Some(v), Some(p)) => format!("USB serial device {v:04x}:{p:04x}"),
            _ => "USB serial device".to_string(),
        },
        (None, None, PortKind::Bluetooth) => {
            kind_from_name(path).unwrap_or("Bluetooth serial port").to_string()
        }
        (None, None, PortKind::Pci | PortKind::Unknown) => {
            kind_from_name(path).unwrap_or("serial port").to_string()
        }
    };
    format!("{what} on {}", normalize_port_name(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions() {
        assert_eq!(
            describe_port(
                "/dev/ttyUSB0",
                PortKind::Usb,
                Some(0x10C4),
                Some(0xEA60),
                Some("CP2102 USB to UART Bridge Controller")
            ),
            "CP2102 USB to UART Bridge Controller on /dev/ttyUSB0"
        );
        assert_eq!(
            describe_port("/dev/ttyUSB1", PortKind::Usb, Some(0x1A86), Some(0x7523), None),
            "CH340 USB-serial adapter on /dev/ttyUSB1"
        );
        assert_eq!(
            describe_port("COM7", PortKind::Usb, Some(0x0403), Some(0x1234), Some("  ")),
            "FTDI USB-serial adapter on COM7"
        );
        assert_eq!(
            describe_port("/dev/ttyACM0", PortKind::Usb, Some(0x2341), Some(0x0043), None),
            "USB serial device 2341:0043 on /dev/ttyACM0"
        );
        assert_eq!(
            describe_port("/dev/ttyS0", PortKind::Pci, None, None, None),
            "serial port on /dev/ttyS0"
        );
    }

    #[test]
    fn windows_and_macos_names_are_described() {
        assert_eq!(
            describe_port(r"\\.\COM10", PortKind::Unknown, None, None, None),
            "serial port on COM10"
        );
        assert_eq!(
            describe_port("COM12", PortKind::Usb, Some(0x10C4), Some(0xEA60), None),
            "CP210x USB to UART Bridge on COM12"
        );
        assert_eq!(
            describe_port("/dev/cu.usbserial-A50285BI", PortKind::Unknown, None, None, None),
            "USB serial device on /dev/cu.usbserial-A50285BI"
        );
        assert_eq!(
            describe_port(
                "/dev/cu.usbserial-A50285BI",
                PortKind::Usb,
                Some(0x0403),
                Some(0x6001),
                Some("FT232R USB UART")
            ),
            "FT232R USB UART on /dev/cu.usbserial-A50285BI"
        );
        // macOS reports its built-in Bluetooth port as a PCI one.
        assert_eq!(
            describe_port("/dev/cu.Bluetooth-Incoming-Port", PortKind::Pci, None, None, None),
            "Bluetooth incoming port (not a reader) on /dev/cu.Bluetooth-Incoming-Port"
        );
        assert_eq!(
            describe_port("/dev/rfcomm0", PortKind::Bluetooth, None, None, None),
            "Bluetooth serial port on /dev/rfcomm0"
        );
    }

    #[test]
    fn listing_ports_does_not_fail() {
        let listed = ports();
        for port in &listed {
            assert!(port.description.ends_with(&port.path));
            if let Some(device) = port.path.strip_prefix("/dev/tty.") {
                let twin = format!("/dev/cu.{device}");
                assert!(listed.iter().all(|p| p.path != twin), "{} listed with {twin}", port.path);
            }
        }
    }
}
