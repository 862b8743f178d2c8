// Tests for the small pure helpers: time formatting (UTC/local, microseconds), reader spec
// strings, and the host choice (Tauri vs mock).
import { describe, expect, it } from "vitest";
import { wantsMock } from "../ipc";
import { READER_PROTOCOLS } from "../ipc/bindings.gen";
import { ago, elapsed, formatOffset, formatTime, parseUtc, timeInputToUtc } from "./format";
import { buildSpec } from "./readerSpec";

describe("format", () => {
  it("parses RFC 3339 with micro/nanoseconds and offsets", () => {
    expect(parseUtc("2026-05-10T09:31:02.070123Z")).toBe(Date.UTC(2026, 4, 10, 9, 31, 2, 70));
    expect(parseUtc("2026-05-10T11:31:02+02:00")).toBe(Date.UTC(2026, 4, 10, 9, 31, 2));
    expect(Number.isNaN(parseUtc("yesterday"))).toBe(true);
  });

  it("formats in UTC", () => {
    expect(formatTime("2026-05-10T09:31:02.070Z", "utc")).toBe("09:31:02.070");
    expect(formatTime("2026-05-10T09:31:02.070Z", "utc", false)).toBe("09:31:02");
    expect(formatTime(null, "utc")).toBe("—");
  });

  it("reads a typed time on the passing's day", () => {
    expect(timeInputToUtc("09:31:05.5", "2026-05-10T09:31:02.070Z", "utc")).toBe("2026-05-10T09:31:05.500Z");
    expect(timeInputToUtc("9:31", "2026-05-10T09:31:02.070Z", "utc")).toBeNull();
    expect(timeInputToUtc("2026-05-10T09:00:00Z", "2026-05-10T09:31:02.070Z", "local")).toBe("2026-05-10T09:00:00.000Z");
  });

  it("says durations and offsets in words", () => {
    const now = Date.UTC(2026, 4, 10, 10, 0, 0);
    expect(ago("2026-05-10T09:59:57Z", now)).toBe("3 s ago");
    expect(ago(null, now)).toBe("never");
    expect(elapsed("2026-05-10T08:47:03Z", now)).toBe("1:12:57");
    expect(formatOffset(143)).toBe("+143 ms");
    expect(formatOffset(-2100)).toBe("−2.1 s");
    expect(formatOffset(null)).toBe("no clock");
  });
});

describe("reader specs", () => {
  it("builds serial and network specs", () => {
    expect(buildSpec({ transport: "serial", path: "/dev/ttyUSB0", baud: 9600, protocol: "ipico" }, READER_PROTOCOLS)).toEqual({
      spec: "serial:/dev/ttyUSB0?protocol=ipico&baud=9600",
    });
    expect(buildSpec({ transport: "tcp", host: "192.168.1.50", port: 23, protocol: "ultra" }, READER_PROTOCOLS)).toEqual({
      spec: "tcp:192.168.1.50:23?protocol=ultra",
    });
    expect(buildSpec({ transport: "tcp", host: "fe80::1", port: 3601, protocol: "raceresult" }, READER_PROTOCOLS)).toEqual({
      spec: "tcp:[fe80::1]:3601?protocol=raceresult",
    });
    expect(buildSpec({ transport: "tcp", host: "", port: 23, protocol: "ultra" }, READER_PROTOCOLS)).toHaveProperty("error");
    expect(buildSpec({ transport: "tcp", host: "h", port: 70000, protocol: "ultra" }, READER_PROTOCOLS)).toHaveProperty("error");
    expect(buildSpec({ transport: "serial", path: "", baud: 9600, protocol: "chafon" }, READER_PROTOCOLS)).toHaveProperty(
      "error",
    );
    expect(buildSpec({ transport: "tcp", host: "h", port: 23, protocol: "nope" }, READER_PROTOCOLS)).toEqual({
      error: "Unknown protocol nope",
    });
    expect(
      buildSpec(
        {
          transport: "tcp",
          host: "10.0.0.9",
          port: 5084,
          protocol: "llrp",
          options: { power: "1:60,2:55", hold: " ", keepalive: "2s" },
        },
        READER_PROTOCOLS,
      ),
    ).toEqual({ spec: "tcp:10.0.0.9:5084?protocol=llrp&power=1:60,2:55&keepalive=2s" });
    const tcpOnly = [{ ...READER_PROTOCOLS[0], name: "netonly", label: "Network reader", transports: ["tcp"] }];
    expect(buildSpec({ transport: "serial", path: "/dev/ttyUSB0", baud: 9600, protocol: "netonly" }, tcpOnly)).toEqual({
      error: "A Network reader is reached over tcp",
    });
  });
});

describe("host choice", () => {
  it("uses Tauri inside the app unless ?host=mock", () => {
    expect(wantsMock("", true)).toBe(false);
    expect(wantsMock("?host=mock", true)).toBe(true);
    expect(wantsMock("", false)).toBe(true);
  });
});
