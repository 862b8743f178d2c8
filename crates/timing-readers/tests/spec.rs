//! Reader specs (`serial:/dev/ttyUSB0?protocol=ipico`, `tcp:host:port?protocol=ultra`): what
//! they parse to, that `Display` writes them back, and that bad specs get clear errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use std::time::Duration;

use chrono::FixedOffset;
use timing_readers::{EliteReplay, Link, Parity, Protocol, ReaderConfig, ReaderZone, SpecError};

fn parse(spec: &str) -> ReaderConfig {
    ReaderConfig::from_spec(spec).expect(spec)
}

#[test]
fn serial_spec_takes_the_protocol_defaults() {
    let config = parse("serial:/dev/ttyUSB0?protocol=ipico");
    assert_eq!(config.protocol, Protocol::Ipico);
    assert_eq!(
        config.link,
        Link::Serial {
            path: "/dev/ttyUSB0".into(),
            baud: 9600,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1
        }
    );
    assert_eq!(config.quiet_after, Duration::from_secs(10));
    assert_eq!(config.backoff.min, Duration::from_millis(100));
    assert_eq!(config.backoff.max, Duration::from_secs(1));
    assert_eq!(config.reader_zone, None, "the computer's zone, filled in by the supervisor");
    assert_eq!(config.source(), "serial:/dev/ttyUSB0?protocol=ipico");

    let chafon = parse("serial:COM3?protocol=chafon");
    assert!(matches!(chafon.link, Link::Serial { baud: 57_600, .. }));
    let r2000 = parse("serial:/dev/ttyACM0?protocol=r2000&baud=38400&parity=even&stop_bits=2");
    assert!(matches!(
        r2000.link,
        Link::Serial { baud: 38_400, parity: Parity::Even, stop_bits: 2, data_bits: 8, .. }
    ));
}

/// Windows COM names in every form people type are kept as `COM10`, the name Windows shows
/// (the transport opens `\\.\COM10`); macOS call-out devices are taken as they are.
#[test]
fn windows_and_macos_port_names() {
    let path = |spec: &str| match parse(spec).link {
        Link::Serial { path, .. } => path,
        other => panic!("{spec} is serial, not {other:?}"),
    };
    assert_eq!(path("serial:COM3?protocol=ipico"), "COM3");
    assert_eq!(path("serial:com3?protocol=ipico"), "COM3");
    assert_eq!(path("serial:COM10?protocol=ipico"), "COM10");
    assert_eq!(path(r"serial:\\.\COM10?protocol=ipico"), "COM10");
    assert_eq!(path(r"serial:\\.\com12?protocol=ipico"), "COM12");
    assert_eq!(path("serial://./COM10?protocol=ipico"), "COM10");
    assert_eq!(
        parse(r"serial:\\.\COM10?protocol=chafon").to_string(),
        "serial:COM10?protocol=chafon",
        "written back as people name it"
    );
    assert_eq!(parse(r"serial:\\.\COM10?protocol=chafon"), parse("serial:COM10?protocol=chafon"));
    assert_eq!(Link::serial(r"\\.\COM11", Protocol::Lines), Link::serial("COM11", Protocol::Lines));
    assert_eq!(
        path("serial:/dev/cu.usbserial-A50285BI?protocol=ipico"),
        "/dev/cu.usbserial-A50285BI"
    );
    for spec in [
        "serial:COM10?protocol=timy&baud=38400",
        "serial:/dev/cu.usbserial-A50285BI?protocol=ipico",
        "serial:/dev/tty.usbserial-A50285BI?protocol=ipico",
        "serial:/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0?protocol=lines",
    ] {
        assert_eq!(parse(spec).to_string(), spec, "display of {spec}");
    }
    for port in [
        path(r"serial:\\.\COM10?protocol=ipico"),
        path("serial:/dev/cu.usbserial-1?protocol=ipico"),
    ] {
        assert!(timing_readers::looks_like_serial_port(&port), "{port}");
    }
}

#[test]
fn tcp_spec_port_is_optional() {
    assert_eq!(parse("tcp:192.168.1.20:23?protocol=ultra").link, Link::tcp("192.168.1.20", 23));
    assert_eq!(parse("tcp:192.168.1.30?protocol=raceresult").link, Link::tcp("192.168.1.30", 3601));
    assert_eq!(parse("tcp:box.local?protocol=cloudbox").link, Link::tcp("box.local", 8080));
    assert_eq!(parse("tcp:10.0.0.5?protocol=ipico").link, Link::tcp("10.0.0.5", 10_000));
    assert_eq!(parse("tcp:[fe80::1]:5000?protocol=r2000").link, Link::tcp("fe80::1", 5000));
    assert_eq!(parse("tcp:[::1]?protocol=ultra").link, Link::tcp("::1", 23));
}

#[test]
fn every_option_round_trips() {
    let specs = [
        "serial:/dev/ttyUSB0?protocol=ipico",
        "serial:/dev/ttyUSB0?protocol=ipico&baud=19200",
        "serial:/dev/ttyS1?protocol=timy&baud=38400&parity=odd&data_bits=7&stop_bits=2",
        "serial:COM3?protocol=lines&name=Bib keypad %26 co",
        "tcp:192.168.1.20?protocol=ultra",
        "tcp:192.168.1.20:2300?protocol=ultra&utc_offset=+02:00&quiet=20s",
        "tcp:10.0.0.2?protocol=raceresult&utc_offset=-05:30&connect_timeout=500ms&start=0&rewind=0",
        "tcp:10.0.0.3:6000?protocol=chafon&poll=100ms",
        "serial:/dev/ttyUSB0?protocol=timy&zone=Europe/Zurich",
        "serial:/dev/ttyUSB0?protocol=timy&number=bib",
        "tcp:10.0.0.9?protocol=llrp",
        "tcp:10.0.0.9:5085?protocol=llrp&hold=0&keepalive=2s&power=1:60,2:55&sensitivity=1",
        "tcp:[fe80::1]?protocol=ipico&elite=1",
        "tcp:10.0.0.4?protocol=ipico&elite=1&elite_control=9000&elite_replay=9001",
    ];
    for spec in specs {
        let config = parse(spec);
        assert_eq!(config.to_string(), spec, "display of {spec}");
        assert_eq!(parse(&config.to_string()), config, "round trip of {spec}");
    }
}

#[test]
fn options_are_understood() {
    let config = parse(
        "tcp:10.0.0.4?protocol=ipico&name=Finish&utc_offset=+01:00&quiet=3s&elite_replay=9001",
    );
    assert_eq!(config.name.as_deref(), Some("Finish"));
    assert_eq!(config.source(), "Finish");
    assert_eq!(config.reader_zone, Some(ReaderZone::Fixed(FixedOffset::east_opt(3600).unwrap())));
    let madrid = parse("tcp:10.0.0.4?protocol=ipico&zone=Europe/Madrid");
    assert_eq!(madrid.reader_zone, Some("Europe/Madrid".parse().unwrap()));
    assert!("tcp:h?protocol=ipico&zone=Mars/Base".parse::<ReaderConfig>().is_err());
    assert_eq!(config.quiet_after, Duration::from_secs(3));
    assert_eq!(config.ipico_elite, Some(EliteReplay { control_port: 9999, replay_port: 9001 }));
    assert!(parse("tcp:h?protocol=ultra&start=0").start_on_connect.eq(&false));
    // What a Timy's number is: a protocol option, kept for its conversation.
    let timy = parse("serial:/dev/ttyUSB0?protocol=timy&number=bib");
    assert_eq!(timy.protocol_options.get("number").map(String::as_str), Some("bib"));
    assert!(parse("serial:/dev/ttyUSB0?protocol=timy").protocol_options.is_empty());
    assert!(parse("serial:/dev/ttyUSB0?protocol=timy&number=impulse").protocol_options.len() == 1);
    // Protocol names ignore case; the canonical spelling comes back.
    assert_eq!(
        parse("serial:/dev/x?protocol=RaceResult").to_string(),
        "serial:/dev/x?protocol=raceresult"
    );
}

#[test]
fn bad_specs_say_what_is_wrong() {
    type Case = (&'static str, fn(&SpecError) -> bool, &'static str);
    let cases: &[Case] = &[
        ("/dev/ttyUSB0", |e| matches!(e, SpecError::MissingScheme(_)), "serial:, tcp:"),
        (
            "usb:/dev/ttyUSB0?protocol=ipico",
            |e| matches!(e, SpecError::UnknownScheme(_)),
            "serial:, tcp:",
        ),
        ("serial:?protocol=ipico", |e| matches!(e, SpecError::MissingPath), "device path"),
        ("serial:/dev/ttyUSB0", |e| matches!(e, SpecError::MissingProtocol), "protocol="),
        (
            "serial:/dev/ttyUSB0?protocol=mylaps",
            |e| matches!(e, SpecError::UnknownProtocol(_)),
            "known: ipico",
        ),
        (
            "serial:/dev/ttyUSB0?protocol=llrp",
            |e| matches!(e, SpecError::WrongTransport { .. }),
            "not reached over serial: use tcp:",
        ),
        (
            "tcp:10.0.0.9?protocol=llrp&power=high",
            |e| matches!(e, SpecError::BadValue { .. }),
            "antenna:index",
        ),
        (
            "serial:/dev/ttyUSB0?protocol=timy&number=foo",
            |e| matches!(e, SpecError::BadValue { option, .. } if option == "number"),
            "impulse (the default: an impulse counter) or bib (the start number)",
        ),
        (
            "serial:/dev/ttyUSB0?protocol=ipico&number=bib",
            |e| matches!(e, SpecError::UnknownOption { .. }),
            "number",
        ),
        (
            "tcp:10.0.0.9?protocol=ultra&power=60",
            |e| matches!(e, SpecError::UnknownOption { .. }),
            "power",
        ),
        (
            "serial:/dev/ttyUSB0?protocol=ipico&baud=fast",
            |e| matches!(e, SpecError::BadValue { .. }),
            "baud",
        ),
        (
            "serial:/dev/ttyUSB0?protocol=ipico&parity=mark",
            |e| matches!(e, SpecError::BadValue { .. }),
            "none, odd or even",
        ),
        (
            "serial:/dev/ttyUSB0?protocol=ipico&speed=9600",
            |e| matches!(e, SpecError::UnknownOption { .. }),
            "speed",
        ),
        (
            "serial:/dev/ttyUSB0?protocol=ipico&baud=1&baud=2",
            |e| matches!(e, SpecError::Repeated(_)),
            "twice",
        ),
        ("tcp::23?protocol=ultra", |e| matches!(e, SpecError::MissingHost), "host"),
        ("tcp:host:99999?protocol=ultra", |e| matches!(e, SpecError::BadPort(_)), "1-65535"),
        ("tcp:host:x?protocol=ultra", |e| matches!(e, SpecError::BadPort(_)), "port"),
        (
            "tcp:host?protocol=chafon",
            |e| matches!(e, SpecError::NoDefaultPort(Protocol::Chafon)),
            "needs a port",
        ),
        ("tcp:fe80::1?protocol=ultra", |e| matches!(e, SpecError::BadValue { .. }), "brackets"),
        (
            "tcp:host?protocol=ultra&baud=9600",
            |e| matches!(e, SpecError::UnknownOption { .. }),
            "tcp",
        ),
        (
            "tcp:host?protocol=ultra&quiet=10",
            |e| matches!(e, SpecError::BadValue { .. }),
            "duration",
        ),
        (
            "tcp:host?protocol=ultra&utc_offset=2h",
            |e| matches!(e, SpecError::BadValue { .. }),
            "+HH:MM",
        ),
    ];
    for (spec, kind, words) in cases {
        let error = ReaderConfig::from_spec(spec).expect_err(spec);
        assert!(kind(&error), "{spec}: unexpected error {error:?}");
        assert!(error.to_string().contains(words), "{spec}: {error} should mention {words:?}");
    }
}

/// Inputs that end are sources of the same grammar: the simulated finish, stdin, a file of
/// lines, a capture replayed through any decoder; each written back as it was typed.
#[test]
fn inputs_that_end_are_specs_too() {
    use timing_readers::transport::sim::SimFinish;
    let sim = parse("sim:runners=50,rate=20");
    assert_eq!(sim.protocol, Protocol::Lines);
    assert_eq!(sim.link, Link::Sim(SimFinish { runners: 50, rate: 20.0, ..SimFinish::default() }));
    assert!(sim.link.is_input());
    assert_eq!(parse(&sim.to_string()), sim, "{sim}");
    let named = parse("sim:runners=5,seed=9&name=Demo finish");
    assert_eq!(named.name.as_deref(), Some("Demo finish"));
    assert_eq!(parse(&named.to_string()), named, "{named}");

    let stdin = parse("lines:-");
    assert_eq!((stdin.protocol, &stdin.link), (Protocol::Lines, &Link::Stdin));
    assert_eq!(stdin.to_string(), "lines:-");
    let file = parse("lines:/tmp/reads.txt");
    assert_eq!(file.link, Link::File { path: "/tmp/reads.txt".into() });
    assert_eq!(file.to_string(), "lines:/tmp/reads.txt");
    let desk = parse("lines:/tmp/reads.txt?name=Desk");
    assert_eq!(desk.to_string(), "lines:/tmp/reads.txt?name=Desk");

    // A serial port carrying lines is a serial link, reconnected like any reader.
    let port = parse("lines:/dev/ttyUSB0?baud=115200");
    assert!(matches!(port.link, Link::Serial { baud: 115_200, .. }), "{port:?}");
    assert!(!port.link.is_input());

    let capture = parse("file:/tmp/ipico.bin?protocol=ipico");
    assert_eq!(capture.protocol, Protocol::Ipico);
    assert_eq!(capture.to_string(), "file:/tmp/ipico.bin?protocol=ipico");
    assert_eq!(parse(&capture.to_string()), capture);

    for (bad, says) in [
        ("sim:runners=lots", "runners"),
        ("sim:speed=3", "speed"),
        ("sim:rate=-1", "rate"),
        ("lines:-?protocol=ipico", "lines"),
        ("file:?protocol=ipico", "path"),
        ("llrp:10.0.0.1", "unknown"),
    ] {
        let error = ReaderConfig::from_spec(bad).expect_err(bad).to_string();
        assert!(error.contains(says), "{bad}: {error}");
    }
}
