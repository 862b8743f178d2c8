// The mock's device commands: bind with serial lookup in the fake RUFUS account (asking first to
// take over a session another console has open), list, select and unbind (confirmed, as the
// backend asks), and the stand-in device a console records under before its first bind.

import type { Device, DeviceCommands } from "../bindings.gen";
import { isoUtc, randomHex } from "./data";
import { clone, err, type MockWorld } from "./world";

/** The stand-in device a console records under before its first bind (as the backend). */
export function localDevice(w: MockWorld): Device {
  const dev: Device = {
    deviceid: `local-${w.now()}`,
    serial_number: "LOCAL",
    model: "this console (not bound yet)",
    device_type: null,
    alias: "Not bound",
    firmware: null,
    api_base_url: "",
    bound_at: isoUtc(w.now()),
  };
  w.bound.push(dev);
  w.currentDeviceId = dev.deviceid;
  return dev;
}

export function deviceHandlers(w: MockWorld): DeviceCommands {
  return {
    async device_bind({ input }) {
      w.requireKey();
      const serial = input.serial_number.trim();
      if (!serial) throw err("invalid", "The serial number is required");
      if (!input.model.trim()) throw err("invalid", "The model is required");
      const before = w.currentDevice();
      const fromLocal = before?.deviceid.startsWith("local-") ?? false;
      const rec = w.currentSession();
      if (rec && w.isRecording(rec) && !fromLocal) {
        throw err("invalid", "Close the open session before binding another device");
      }
      let cloud = w.account.find((d) => d.serial_number === serial);
      // As the backend: a device whose session is active in RUFUS and unknown here is in use by
      // another console; binding asks first and, confirmed, continues that session here.
      const active = cloud
        ? (w.accountSessions.get(cloud.deviceid) ?? []).find(
            (cs) => cs.active && !w.sessions.some((ls) => ls.token_session === cs.token_session),
          )
        : undefined;
      if (active && !input.take_over) {
        const name = active.alias ? ` (${active.alias})` : "";
        throw err(
          "confirmation_required",
          `in use by another console: session ${active.token_session}${name}, ${active.passings ?? "?"} passings, last at ${active.creation_date ?? "?"} — take over to continue that session here (numbering goes on after the cloud's last passing)`,
        );
      }
      if (!cloud) {
        cloud = {
          deviceid: `dv_${randomHex(w.r, 4)}`,
          serial_number: serial,
          model: input.model.trim(),
          alias: input.alias?.trim() || null,
          sessions: 0,
          passings: 0,
          bound_here: true,
        };
        w.account.push(cloud);
      }
      let dev = w.bound.find((d) => d.deviceid === cloud.deviceid);
      if (!dev) {
        dev = {
          deviceid: cloud.deviceid,
          serial_number: serial,
          model: cloud.model ?? input.model.trim(),
          device_type: input.device_type.trim() || "custom",
          alias: input.alias?.trim() || cloud.alias,
          firmware: input.firmware?.trim() || null,
          api_base_url: w.settings.api_url,
          bound_at: isoUtc(w.now()),
        };
        w.bound.push(dev);
      }
      if (before && fromLocal) {
        // As the backend does: what was recorded before the first bind moves to the bound device.
        for (const sess of w.sessions) {
          if (sess.deviceid === before.deviceid && sess.token_session === null) sess.deviceid = dev.deviceid;
        }
        w.bound = w.bound.filter((d) => d.deviceid !== before.deviceid);
      }
      w.currentDeviceId = dev.deviceid;
      w.undo = [];
      if (active) {
        const taken = w.createSession(dev.deviceid, active.alias);
        taken.token_session = active.token_session;
        taken.state = "active";
        taken.note = null;
        taken.next_num_passing = (active.passings ?? 0) + 1;
      }
      w.emitSession();
      return clone(dev);
    },

    async device_list() {
      return clone(w.bound);
    },

    async device_cloud_list() {
      w.requireKey();
      return clone(w.account.map((d) => ({ ...d, bound_here: w.bound.some((b) => b.deviceid === d.deviceid) })));
    },

    async device_select({ deviceid }) {
      const dev = w.bound.find((d) => d.deviceid === deviceid);
      if (!dev) throw err("not_found", `Device ${deviceid} is not bound to this console`);
      const rec = w.currentSession();
      if (rec && w.isRecording(rec) && rec.deviceid !== deviceid)
        throw err("invalid", "Close the open session before switching devices");
      w.currentDeviceId = deviceid;
      w.undo = [];
      w.emitSession();
      return clone(dev);
    },

    async device_unbind({ deviceid, confirmed }) {
      const dev = w.bound.find((d) => d.deviceid === deviceid);
      if (!dev) throw err("not_found", `Device ${deviceid} is not bound to this console`);
      const rec = w.sessions.find((s) => s.deviceid === deviceid && w.isRecording(s));
      if (rec) throw err("invalid", "This device has an open session: close it first");
      const cloud = w.account.find((d) => d.deviceid === deviceid);
      if (!confirmed) {
        throw err(
          "confirmation_required",
          `Unbinding deletes device ${dev.alias ?? dev.serial_number} in RUFUS together with its ${cloud?.sessions ?? 0} sessions and ${cloud?.passings ?? 0} passings. This cannot be undone.`,
        );
      }
      if (w.apiKey) w.account = w.account.filter((d) => d.deviceid !== deviceid);
      w.bound = w.bound.filter((d) => d.deviceid !== deviceid);
      if (w.currentDeviceId === deviceid) w.currentDeviceId = w.bound[0]?.deviceid ?? null;
      w.emitSession();
    },
  };
}

/** Test hooks of the devices domain. */
export function deviceControls(w: MockWorld) {
  return {
    /**
     * Another console has the device with this serial in use: an active session in RUFUS this
     * console does not know (binding it asks to take over).
     */
    openElsewhere(serial = "TC-LAPTOP-01", passings = 57): string {
      const dev = w.account.find((d) => d.serial_number === serial);
      if (!dev) throw new Error(`no account device ${serial}`);
      const token = `tk_${randomHex(w.r, 6)}`;
      const list = w.accountSessions.get(dev.deviceid) ?? [];
      list.push({
        token_session: token,
        alias: "Other laptop",
        active: true,
        passings,
        creation_date: isoUtc(w.now() - 600_000),
      });
      w.accountSessions.set(dev.deviceid, list);
      return token;
    },
  };
}
