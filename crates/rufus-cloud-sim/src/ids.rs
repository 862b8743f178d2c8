//! Fresh identifiers: device ids and session tokens (64 uppercase hex) and API keys.

/// 64 uppercase hex chars, like every `deviceid` and `token_session` in the RUFUS pages.
pub(crate) fn new_token() -> String {
    hex(&rand::random::<[u8; 32]>(), true)
}

/// `ror-` + 20 lowercase hex chars, like the keys in the RUFUS pages.
pub(crate) fn new_key() -> String {
    format!("ror-{}", hex(&rand::random::<[u8; 10]>(), false))
}

fn hex(bytes: &[u8], upper: bool) -> String {
    bytes.iter().map(|b| if upper { format!("{b:02X}") } else { format!("{b:02x}") }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let token = new_token();
        assert_eq!(token.len(), 64);
        assert!(token.chars().all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
        let key = new_key();
        assert_eq!(key.len(), 24);
        assert!(key.starts_with("ror-"));
    }
}
