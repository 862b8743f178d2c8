// The zones a reader's clock-zone field offers, asked of the host once and shared by every tile.
import type { Host, ZoneList } from "../../ipc";

let cached: Promise<ZoneList> | null = null;

export function zoneList(host: Host): Promise<ZoneList> {
  if (!cached) {
    cached = host.readerZones().catch((e) => {
      cached = null;
      throw e;
    });
  }
  return cached;
}
