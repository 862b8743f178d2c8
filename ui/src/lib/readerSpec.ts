// Builds the reader spec strings reader_add expects (serial:/dev/ttyUSB0?protocol=ipico&baud=9600,
// tcp:HOST:PORT?protocol=ultra). The protocols themselves — names, labels, transports, default
// baud and port — come from the engine (reader_protocols), never from a list here.

import type { ProtocolView } from "../ipc";

export type Transport = "serial" | "tcp";

export const BAUD_RATES = [2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

/** Values for the protocol's own options (ProtocolView.options), by name; blank = default. */
export type OptionValues = Record<string, string>;

export type SpecInput =
  | { transport: "serial"; path: string; baud: number; protocol: string; options?: OptionValues }
  | { transport: "tcp"; host: string; port: number; protocol: string; options?: OptionValues };

/** A spec value with the characters the spec grammar uses (& = % #, blanks) percent-encoded. */
function specValue(v: string): string {
  return v.replace(/[%&=#\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

function optionSuffix(known: ProtocolView, values: OptionValues | undefined): string {
  return known.options
    .map((o) => [o.name, values?.[o.name]?.trim() ?? ""] as const)
    .filter(([, v]) => v !== "")
    .map(([name, v]) => `&${name}=${specValue(v)}`)
    .join("");
}

/** The spec string for one of `protocols`, or an error in words. */
export function buildSpec(input: SpecInput, protocols: readonly ProtocolView[]): { spec: string } | { error: string } {
  const known = protocols.find((p) => p.name === input.protocol);
  if (!known) return { error: input.protocol ? `Unknown protocol ${input.protocol}` : "Pick a protocol" };
  if (!known.transports.includes(input.transport)) {
    return { error: `A ${known.label} is reached over ${known.transports.join(" or ")}` };
  }
  if (input.transport === "serial") {
    const path = input.path.trim();
    if (!path) return { error: "Pick a serial port" };
    if (!Number.isInteger(input.baud) || input.baud <= 0) return { error: "Pick a baud rate" };
    return { spec: `serial:${path}?protocol=${input.protocol}&baud=${input.baud}${optionSuffix(known, input.options)}` };
  }
  const host = input.host.trim();
  if (!host || /[\s/?#]/.test(host)) return { error: "Type the reader's host name or IP address" };
  if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) return { error: "The port must be 1–65535" };
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return { spec: `tcp:${h}:${input.port}?protocol=${input.protocol}${optionSuffix(known, input.options)}` };
}
