//! The one list of the app's commands. [`with_commands!`] hands the list to a macro; from it
//! come the Rust traits `src-tauri` implements (one per domain: a missing command does not
//! compile), the Tauri handler registration (in `src-tauri`), and the TypeScript client, its
//! command map and the mock host's handler interface (in `bindings.gen.ts`).
//!
//! An entry is `kind name(arg: Type, …) -> Result;` with its doc comment. `fn` is a plain
//! command (JSON arguments, camelCase on the JS side); `raw` takes the request body as bytes
//! ([`RawBody`]); `stream` takes a [`Sink`] the host pushes items into (a Tauri channel).

use std::future::Future;

use crate::IpcError;

/// Hands the command list to `$callback!`: `$callback! { Domain { kind name(args) -> T; … } … }`.
#[macro_export]
macro_rules! with_commands {
    ($callback:path) => {
        $callback! {
            /// The state a screen starts from, settings, the API key, participants and exports.
            AppCommands {
                /// Everything the console screen needs at start and after a reload.
                fn app_state() -> $crate::AppState;
                /// Validates, applies in place and saves the settings.
                fn settings_set(settings: $crate::Settings) -> $crate::Settings;
                /// Stores a new API key (keychain, or a private file) and syncs with it.
                fn api_key_set(key: String) -> $crate::KeyStorage;
                /// Forgets the API key: capture goes on, nothing syncs.
                fn api_key_clear() -> $crate::KeyStorage;
                /// Imports a participants file: the body is the file's bytes, in any encoding.
                raw participants_import(body: $crate::RawBody) -> $crate::ImportReport;
                /// Writes the current session's passings or raw reads as CSV; returns the path.
                fn export_csv(what: $crate::ExportWhat) -> String;
            }
            /// This console's devices, here and in the RUFUS account.
            DeviceCommands {
                /// Binds a device to the RUFUS account (asks first to take over an open session).
                fn device_bind(input: $crate::BindInput) -> $crate::Device;
                /// The devices bound here.
                fn device_list() -> Vec<$crate::Device>;
                /// The account's devices in RUFUS.
                fn device_cloud_list() -> Vec<$crate::CloudDevice>;
                /// Records for this device from now on.
                fn device_select(deviceid: String) -> $crate::Device;
                /// Unbinds a device (`confirmed` after the console asked).
                fn device_unbind(deviceid: String, confirmed: bool) -> ();
            }
            /// Timing sessions: open, close, compare with the cloud, re-home.
            SessionCommands {
                /// Opens a session (offline too: it is created in RUFUS when the network is back).
                fn session_open(alias: Option<String>) -> $crate::Session;
                /// Closes the open session once everything in it is sent.
                fn session_close() -> $crate::Session;
                /// The sessions recorded here.
                fn session_list() -> Vec<$crate::Session>;
                /// The device's sessions in RUFUS.
                fn session_cloud_list() -> Vec<$crate::CloudSession>;
                /// A session with its outbox.
                fn session_details(session_id: i64) -> $crate::SessionDetails;
                /// Local passings compared with the cloud's.
                fn session_reconcile(session_id: i64) -> $crate::ReconcileReport;
                /// Sends again what the cloud is missing; returns how many.
                fn session_resend_missing(session_id: i64) -> i64;
                /// Moves the pending passings of a session closed elsewhere into the open one.
                fn session_rehome(from_session_id: i64) -> i64;
            }
            /// Sending to RUFUS.
            SyncCommands {
                /// Ends a backoff, a Retry-After wait or a pause now.
                fn sync_retry() -> ();
                /// Puts parked passings (of one session, or all) back into the outbox.
                fn sync_retry_parked(session_id: Option<i64>) -> i64;
            }
            /// The live feed, manual entry and corrections.
            FeedCommands {
                /// The current session's feed, newest first, `num_passing < before`.
                fn feed_page(before: Option<i64>, limit: i64) -> Vec<$crate::FeedEntry>;
                /// Streams the live feed: new or changed entries, once per frame at most.
                stream feed_subscribe(on_batch: $crate::Sink<$crate::FeedBatch>) -> ();
                /// Stamps now and gives the bibs that time (`confirmation_required` above 50).
                fn manual_mark(bibs: String, pressed_at: Option<$crate::PressedAt>, confirmed: Option<bool>) -> $crate::ManualResult;
                /// A time waiting for its bib.
                fn manual_stamp(pressed_at: Option<$crate::PressedAt>) -> $crate::ManualResult;
                /// Gives bibs to the oldest waiting times.
                fn manual_assign(bibs: String, confirmed: Option<bool>) -> $crate::Entry;
                /// Queues bibs for the next stamps.
                fn manual_queue(bibs: String, confirmed: Option<bool>) -> $crate::Entry;
                /// Stamps the next queued bib.
                fn manual_stamp_queued(pressed_at: Option<$crate::PressedAt>) -> $crate::ManualResult;
                /// Undoes the last manual action.
                fn manual_undo() -> $crate::Entry;
                /// Corrects a passing (append-only; carried to the cloud as a new passing).
                fn passing_correct(num: i64, change: $crate::ChangeInput, reason: Option<String>) -> $crate::Corrected;
                /// A passing's corrections, oldest first.
                fn passing_audit(passing_id: i64) -> Vec<$crate::Correction>;
            }
            /// The race: wave starts, who a bib is, counts. Starts stay on this console.
            RaceCommands {
                /// The open session's waves, start log and counts.
                fn race_state() -> $crate::RaceView;
                /// Starts, restarts, nudges or sets a wave's start (`""`: the one start).
                fn race_start(wave: String, how: $crate::StartInput) -> $crate::RaceView;
                /// Who a typed bib is, and whether they finished, before Enter.
                fn runner_preview(bib: String) -> $crate::RunnerPreview;
                /// Listed runners not seen yet, matching `search` (bib, name or category).
                fn runners_not_seen(search: String, limit: i64) -> Vec<$crate::RunnerView>;
            }
            /// Timing readers.
            ReaderCommands {
                /// Every protocol the console speaks (the registry).
                fn reader_protocols() -> Vec<$crate::ProtocolView>;
                /// The serial ports the OS offers.
                fn reader_ports() -> Vec<$crate::PortView>;
                /// Adds and starts a reader by spec.
                fn reader_add(name: String, spec: String) -> $crate::ReaderView;
                /// Stops and removes a reader.
                fn reader_remove(name: String) -> ();
                /// Starts a stopped reader.
                fn reader_start(name: String) -> $crate::ReaderView;
                /// Stops a reader (its reads so far are kept).
                fn reader_stop(name: String) -> $crate::ReaderView;
                /// Sets the reader's clock to this computer's.
                fn reader_set_clock(name: String) -> $crate::ReaderView;
                /// The reader's last frames in and out.
                fn reader_frames(name: String) -> Vec<$crate::FrameView>;
                /// This computer's zone and the IANA names.
                fn reader_zones() -> $crate::ZoneList;
                /// The zone the reader's clock is read in ('' = this computer's).
                fn reader_set_zone(name: String, zone: String) -> $crate::ReaderView;
                /// Milliseconds added to the reader's passing times from now on (audited).
                fn reader_adjust(name: String, ms: i64) -> $crate::ReaderView;
            }
            /// Updates, when a person asks.
            UpdateCommands {
                /// What the updater knows (`enabled: false` without an update endpoint).
                fn update_status() -> $crate::UpdateStatus;
                /// Installs the available update; `busy` unless the console is idle.
                fn update_install() -> $crate::UpdateStatus;
            }
        }
    };
}

/// The request body of a `raw` command: bytes exactly as the UI sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawBody(pub Vec<u8>);

/// Where a `stream` command pushes its items; `send` is false once nobody listens.
pub struct Sink<T>(Box<dyn Fn(T) -> bool + Send + Sync>);

impl<T> Sink<T> {
    /// A sink over a send function.
    pub fn new(send: impl Fn(T) -> bool + Send + Sync + 'static) -> Self {
        Self(Box::new(send))
    }

    /// Pushes one item; false when the receiver is gone.
    pub fn send(&self, item: T) -> bool {
        (self.0)(item)
    }
}

impl<T> std::fmt::Debug for Sink<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sink")
    }
}

/// What a `stream` command's sink carries (the Tauri side makes a channel of it).
pub trait StreamArg {
    /// The item type.
    type Item;
}

impl<T> StreamArg for Sink<T> {
    type Item = T;
}

/// The TypeScript type of a command's argument or result.
pub trait IpcType {
    /// The TypeScript type expression.
    fn ts(cfg: &ts_rs::Config) -> String;
}

impl<T: ts_rs::TS> IpcType for T {
    fn ts(cfg: &ts_rs::Config) -> String {
        match T::name(cfg).as_str() {
            "null" => "void".to_owned(),
            name => name.to_owned(),
        }
    }
}

impl IpcType for RawBody {
    fn ts(_: &ts_rs::Config) -> String {
        "Uint8Array".to_owned()
    }
}

impl<T: ts_rs::TS> IpcType for Sink<T> {
    fn ts(cfg: &ts_rs::Config) -> String {
        T::name(cfg)
    }
}

/// One command as the list declares it (for the TypeScript client and the docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandInfo {
    /// The trait it belongs to, e.g. `DeviceCommands`.
    pub domain: &'static str,
    /// `fn`, `raw` or `stream`.
    pub kind: &'static str,
    /// `device_bind`.
    pub name: &'static str,
    /// Its doc comment, one line per entry.
    pub docs: Vec<&'static str>,
    /// Argument names (snake_case) with their TypeScript types.
    pub args: Vec<(&'static str, String)>,
    /// The result's TypeScript type (`void` for none).
    pub result: String,
}

/// Defines the domain traits, [`Commands`] and [`command_list`] from the list.
macro_rules! define_commands {
    ($(
        $(#[doc = $ddoc:literal])*
        $domain:ident {
            $(
                $(#[doc = $doc:literal])*
                $kind:ident $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty;
            )*
        }
    )*) => {
        $(
            $(#[doc = $ddoc])*
            pub trait $domain: Send + Sync {
                $(
                    $(#[doc = $doc])*
                    fn $name(&self, $($arg: $ty),*)
                        -> impl Future<Output = Result<$ret, IpcError>> + Send;
                )*
            }
        )*

        /// Every command: what `src-tauri` implements (and the mock host, in TypeScript).
        pub trait Commands: Send + Sync $(+ $domain)* {}
        impl<T: Send + Sync $(+ $domain)*> Commands for T {}

        /// Every command's name, in list order.
        pub const COMMAND_NAMES: &[&str] = &[$($(stringify!($name),)*)*];

        /// Every command in list order, with TypeScript types.
        pub fn command_list(cfg: &ts_rs::Config) -> Vec<CommandInfo> {
            vec![$($(
                CommandInfo {
                    domain: stringify!($domain),
                    kind: stringify!($kind),
                    name: stringify!($name),
                    docs: vec![$($doc.trim()),*],
                    args: vec![$((stringify!($arg), <$ty as IpcType>::ts(cfg))),*],
                    result: <$ret as IpcType>::ts(cfg),
                },
            )*)*]
        }
    };
}

with_commands!(define_commands);

/// `snake_case` → `camelCase` (Tauri's argument names on the JS side, the client's methods).
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The TypeScript of the command surface: the command map, the client over one generic
/// `invoke`, the handler interfaces the mock host implements (one per domain), and the union
/// of error codes.
pub fn typescript(cfg: &ts_rs::Config, error_codes: &[&str]) -> String {
    let list = command_list(cfg);
    let calls: Vec<&CommandInfo> = list.iter().filter(|c| c.kind != "stream").collect();
    let mut out = String::new();
    out.push_str("/** Every code an IPC error can carry. */\nexport type ErrorCode =\n");
    for code in error_codes {
        out.push_str(&format!("  | {code:?}\n"));
    }
    out.push_str(
        ";\n\n/** Every command: its arguments (as Tauri takes them) and its result. */\n",
    );
    out.push_str("export interface Commands {\n");
    for c in &calls {
        let args = match c.kind {
            "raw" => c.args.first().map(|(_, t)| t.clone()).unwrap_or_default(),
            _ if c.args.is_empty() => "Record<string, never>".to_owned(),
            _ => {
                let fields: Vec<String> =
                    c.args.iter().map(|(n, t)| format!("{}: {t}", camel(n))).collect();
                format!("{{ {} }}", fields.join("; "))
            }
        };
        out.push_str(&format!("  {}: {{ args: {args}; result: {} }};\n", c.name, c.result));
    }
    out.push_str("}\n\nexport type CommandName = keyof Commands;\n\n");
    out.push_str("/** Every command's name, in list order. */\nexport const COMMAND_NAMES: CommandName[] = [\n");
    for c in &calls {
        out.push_str(&format!("  {:?},\n", c.name));
    }
    out.push_str("];\n\n");
    out.push_str("/** Commands that stream: what each pushes. */\nexport interface Streams {\n");
    for c in list.iter().filter(|c| c.kind == "stream") {
        let item = c.args.first().map(|(_, t)| t.as_str()).unwrap_or("never");
        out.push_str(&format!("  {}: {item};\n", c.name));
    }
    out.push_str("}\n\n");
    out.push_str(
        "/** The one way a command travels: the Tauri host invokes it, the mock host runs its handler. */\n\
         export type Invoke = <K extends CommandName>(cmd: K, args: Commands[K][\"args\"]) => Promise<Commands[K][\"result\"]>;\n\n",
    );
    let mut domains: Vec<&str> = calls.iter().map(|c| c.domain).collect();
    domains.dedup();
    for domain in &domains {
        out.push_str(&format!(
            "/** The handlers of {domain} (the mock host implements them). */\nexport interface {domain} {{\n"
        ));
        for c in calls.iter().filter(|c| c.domain == *domain) {
            out.push_str(&format!(
                "  {}(args: Commands[{:?}][\"args\"]): Promise<Commands[{:?}][\"result\"]>;\n",
                c.name, c.name, c.name
            ));
        }
        out.push_str("}\n\n");
    }
    out.push_str(&format!(
        "/** One handler per command. */\nexport type CommandHandlers = {};\n\n",
        domains.join(" & ")
    ));
    out.push_str("/** The typed client: one method per command, camelCase, positional arguments. */\nexport interface CommandClient {\n");
    for c in &calls {
        for doc in &c.docs {
            out.push_str(&format!("  /** {doc} */\n"));
        }
        out.push_str(&format!("  {}({}): Promise<{}>;\n", camel(c.name), params(c), c.result));
    }
    out.push_str("}\n\n/** The client over an `invoke`. */\nexport function commandClient(invoke: Invoke): CommandClient {\n  return {\n");
    for c in &calls {
        let names: Vec<String> = c.args.iter().map(|(n, _)| camel(n)).collect();
        let body = match c.kind {
            "raw" => names.first().cloned().unwrap_or_default(),
            _ if names.is_empty() => "{}".to_owned(),
            _ => {
                let fields: Vec<String> = c
                    .args
                    .iter()
                    .map(|(n, t)| {
                        let n = camel(n);
                        if t.ends_with("| null") { format!("{n}: {n} ?? null") } else { n }
                    })
                    .collect();
                format!("{{ {} }}", fields.join(", "))
            }
        };
        out.push_str(&format!(
            "    {}: ({}) => invoke({:?}, {body}),\n",
            camel(c.name),
            names.join(", "),
            c.name
        ));
    }
    out.push_str("  };\n}\n");
    out
}

/// The client method's parameters: trailing nullable arguments may be left out.
fn params(c: &CommandInfo) -> String {
    let optional_from = c
        .args
        .iter()
        .rposition(|(_, t)| !t.ends_with("| null"))
        .map_or(0, |last_required| last_required + 1);
    c.args
        .iter()
        .enumerate()
        .map(|(i, (n, t))| {
            let mark = if i >= optional_from { "?" } else { "" };
            format!("{}{mark}: {t}", camel(n))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_camel_case_on_the_js_side() {
        assert_eq!(camel("session_rehome"), "sessionRehome");
        assert_eq!(camel("from_session_id"), "fromSessionId");
        assert_eq!(camel("key"), "key");
    }

    #[test]
    fn every_command_is_listed_once_with_its_types() {
        let cfg = ts_rs::Config::new().with_large_int("number");
        let list = command_list(&cfg);
        let mut names: Vec<_> = list.iter().map(|c| c.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a command is listed twice");
        let mark = list.iter().find(|c| c.name == "manual_mark").unwrap();
        assert_eq!(mark.args[1], ("pressed_at", "PressedAt | null".to_owned()));
        assert_eq!(mark.result, "ManualResult");
        let raw = list.iter().find(|c| c.name == "participants_import").unwrap();
        assert_eq!((raw.kind, raw.args[0].1.as_str()), ("raw", "Uint8Array"));
        let unbind = list.iter().find(|c| c.name == "device_unbind").unwrap();
        assert_eq!(unbind.result, "void");
        assert_eq!(
            params(mark),
            "bibs: string, pressedAt?: PressedAt | null, confirmed?: boolean | null"
        );
    }
}
