// Builds the reader spec strings reader_add expects (serial:/dev/ttyUSB0?protocol=ipico&baud=9600,
// tcp:HOST:PORT?protocol=ultra) and knows each protocol's usual transport, port and baud rate
// (from docs/readers.md) so the Readers form can prefill sensible values.

export const PROTOCOLS = ["ipico", "ultra", "r2000", "chafon", "timy", "raceresult", "cloudbox", "lines"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface ProtocolInfo {
  label: string;
  transport: "serial" | "tcp";
  baud: number;
  port: number | null;
}

export const PROTOCOL_INFO: Record<Protocol, ProtocolInfo> = {
  ipico: { label: "IPICO Lite/Elite", transport: "serial", baud: 9600, port: 10000 },
  ultra: { label: "RFID Timing Systems Ultra/Joey", transport: "tcp", baud: 9600, port: 23 },
  r2000: { label: "Impinj R2000 module (0xA0 CMD)", transport: "serial", baud: 115200, port: null },
  chafon: { label: "Chafon / UHFReader18", transport: "serial", baud: 57600, port: null },
  timy: { label: "ALGE Timy (RS-232)", transport: "serial", baud: 9600, port: null },
  raceresult: { label: "RACE RESULT decoder", transport: "tcp", baud: 19200, port: 3601 },
  cloudbox: { label: "RUFUS CloudBox", transport: "tcp", baud: 115200, port: 8080 },
  lines: { label: "Text lines (keyboard-wedge style)", transport: "serial", baud: 9600, port: null },
};

export const BAUD_RATES = [2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

export type SpecInput =
  | { transport: "serial"; path: string; baud: number; protocol: Protocol }
  | { transport: "tcp"; host: string; port: number; protocol: Protocol };

/** The spec string, or an error in words. */
export function buildSpec(input: SpecInput): { spec: string } | { error: string } {
  if (!PROTOCOLS.includes(input.protocol)) return { error: `Unknown protocol ${input.protocol}` };
  if (input.transport === "serial") {
    const path = input.path.trim();
    if (!path) return { error: "Pick a serial port" };
    if (!Number.isInteger(input.baud) || input.baud <= 0) return { error: "Pick a baud rate" };
    return { spec: `serial:${path}?protocol=${input.protocol}&baud=${input.baud}` };
  }
  const host = input.host.trim();
  if (!host || /[\s/?#]/.test(host)) return { error: "Type the reader's host name or IP address" };
  if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) return { error: "The port must be 1–65535" };
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return { spec: `tcp:${h}:${input.port}?protocol=${input.protocol}` };
}
