//! Serial port discovery for the "pick your reader" list: what is plugged in, described the way
//! a person recognises it ("CP2102 USB to UART Bridge Controller on /dev/ttyUSB0").

use serialport::SerialPortType;

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

/// The serial ports present now (empty when the OS cannot list them).
pub fn ports() -> Vec<PortInfo> {
    let Ok(found) = serialport::available_ports() else { return Vec::new() };
    found
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
            let description = describe_port(&port.port_name, kind, vid, pid, product.as_deref());
            PortInfo {
                path: port.port_name,
                kind,
                vid,
                pid,
                serial_number,
                manufacturer,
                product,
                description,
            }
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

/// The description of a port: its USB product string, else a known chip's name, else a generic
/// phrase, followed by "on" and the path.
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
        (None, None, PortKind::Bluetooth) => "Bluetooth serial port".to_string(),
        (None, None, PortKind::Pci | PortKind::Unknown) => "serial port".to_string(),
    };
    format!("{what} on {path}")
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
    fn listing_ports_does_not_fail() {
        for port in ports() {
            assert!(port.description.ends_with(&port.path));
        }
    }
}
